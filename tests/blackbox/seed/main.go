// The seed page's Go example, as written, with only the base URL replaced
// (https://app.piora.dev -> $PIORA_BASE_URL) and the token from
// $PIORA_API_TOKEN. The lines after the example print what the test checks.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
)

func main() {
	base := os.Getenv("PIORA_BASE_URL")
	token := os.Getenv("PIORA_API_TOKEN")

	// Go
	req, _ := http.NewRequest("GET", base+"/api/v1/servers", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, _ := http.DefaultClient.Do(req)

	if resp == nil {
		fmt.Fprintln(os.Stderr, "no response")
		os.Exit(1)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var data any
	if err := json.Unmarshal(body, &data); err != nil {
		fmt.Fprintln(os.Stderr, "not JSON:", string(body))
		os.Exit(1)
	}
	out, _ := json.Marshal(map[string]any{"status": resp.StatusCode, "data": data})
	fmt.Println(string(out))
}
