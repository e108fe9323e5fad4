# The seed page's Python (requests) example, as written, with only the base
# URL replaced (https://app.piora.dev -> $PIORA_BASE_URL) and the token from
# $PIORA_API_TOKEN. Run with Debian's /usr/bin/python3 and python3-requests.
# The last line prints what the test checks.
import json
import os

BASE = os.environ["PIORA_BASE_URL"]
TOKEN = os.environ["PIORA_API_TOKEN"]

# Python (requests)
import requests
response = requests.get(
BASE + '/api/v1/servers',
headers={'Authorization': 'Bearer ' + TOKEN}
)
data = response.json()

print(json.dumps({"status": response.status_code, "data": data}))
