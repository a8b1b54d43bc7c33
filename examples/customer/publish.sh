#!/bin/sh
# publish.sh: publish an intent with curl and print the offers as they
# arrive, reading the daemon's server-sent events with `curl -N`.
#
#   examples/customer/publish.sh [OFFERS]
#
# OFFERS is how many offers to wait for (default 1). The daemon is found like
# the CLI finds it: INTENTCAST_API and INTENTCAST_TOKEN, else the api.addr and
# api.token files in INTENTCAST_DATA_DIR (default
# $XDG_DATA_HOME/intentcast or ~/.local/share/intentcast). Edit BODY below
# for your own intent. Needs curl; prints prettier with jq if it is there.
set -eu

want=${1:-1}
dir=${INTENTCAST_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/intentcast}
addr=${INTENTCAST_API:-$(cat "$dir/api.addr" 2>/dev/null || echo 127.0.0.1:7733)}
case $addr in http://*|https://*) base=$addr ;; *) base=http://$addr ;; esac
token=${INTENTCAST_TOKEN:-$(cat "$dir/api.token")}
auth="Authorization: Bearer $token"

BODY='{
  "category": "electronics",
  "path": ["headphones"],
  "text": "Noise-cancelling over-ear headphones",
  "max_price": "250",
  "currency": "EUR",
  "region": "DE",
  "expires_in": "24h",
  "terms": ["no-tracking", "no-resale", "delete-after"]
}'

# 1. Publish. The answer is the intent as JSON (201 Created); minting the
#    proof of work happens before it comes back.
intent=$(curl -sS --fail-with-body -H "$auth" -H 'Content-Type: application/json' \
	-d "$BODY" "$base/v1/intents") || { echo "publish failed: $intent" >&2; exit 1; }
id=$(printf '%s' "$intent" | sed -n 's/.*"id": *"\([0-9a-f]\{64\}\)".*/\1/p')
echo "published intent $id"

# 2. Follow the event stream. It first replays what the node holds, then goes
#    live; each event is an "event: KIND" line and a "data: JSON" line.
#    Stop after $want offers to this intent.
#    (curl's complaint when the loop stops reading is expected: hidden.)
n=0
curl -sSN -H "$auth" -H 'Accept: text/event-stream' "$base/v1/events" 2>/dev/null |
while IFS= read -r line; do
	case $line in
	"event: "*) kind=${line#event: } ;;
	"data: "*)
		[ "${kind:-}" = offer ] || continue
		data=${line#data: }
		case $data in *"\"intent_id\":\"$id\""*) ;; *) continue ;; esac
		if command -v jq >/dev/null; then
			printf '%s\n' "$data" | jq -r '.offer | "offer \(.id[:12]) from \(.vendor.name): \(.price) \(.currency) terms_ok=\(.terms_ok) \(.text)"'
		else
			printf 'offer: %s\n' "$data"
		fi
		n=$((n + 1))
		[ "$n" -lt "$want" ] || break
		;;
	esac
done

# 3. To accept one:
echo "accept one with: curl -sS -X POST -H \"Authorization: Bearer \$TOKEN\" $base/v1/intents/$id/offers/OFFER_ID/accept"
