// The seed page's Node.js (fetch) example, as written, with only the base URL
// replaced (https://app.piora.dev -> $PIORA_BASE_URL) and the token from
// $PIORA_API_TOKEN. The last line prints what the test checks.
const base = process.env.PIORA_BASE_URL;
const token = process.env.PIORA_API_TOKEN;

// Node.js (fetch)
const response = await fetch(`${base}/api/v1/servers`, {
headers: {
'Authorization': `Bearer ${token}`,
'Content-Type': 'application/json',
},
});
const data = await response.json();

console.log(JSON.stringify({ status: response.status, data }));
