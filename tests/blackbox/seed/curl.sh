#!/usr/bin/env bash
# The seed page's curl examples (seed/api-authentication.txt), as written,
# with only the base URL replaced: https://app.piora.dev -> $PIORA_BASE_URL.
# $1 selects which one: "literal" (the token pasted into the command; here it
# comes from $PIORA_API_TOKEN) or "env" (the page's environment-variable form).
set -u
case "${1:-literal}" in
literal)
curl -X GET "$PIORA_BASE_URL"/api/v1/servers \
-H "Authorization: Bearer $PIORA_API_TOKEN"
;;
env)
# Use environment variables
export PIORA_API_TOKEN=$PIORA_API_TOKEN
# Use in your application
curl -H "Authorization: Bearer $PIORA_API_TOKEN" \
"$PIORA_BASE_URL"/api/v1/servers
;;
esac
