package client

// The stable error codes of the API (docs/API.md lists them with their
// HTTP statuses). Clients branch on the code (Error.Code, ErrorCode); the
// message is for people and may change.
const (
	CodeUnauthorized       = "unauthorized"
	CodeForbiddenOrigin    = "forbidden_origin"
	CodeForbiddenHost      = "forbidden_host"
	CodeBadJSON            = "bad_json"
	CodeBodyTooLarge       = "body_too_large"
	CodeBadRequest         = "bad_request"
	CodeBadCategory        = "bad_category"
	CodeBadPath            = "bad_path"
	CodeBadText            = "bad_text"
	CodeBadQuantity        = "bad_quantity"
	CodeBadPrice           = "bad_price"
	CodeBadCurrency        = "bad_currency"
	CodeBadRegion          = "bad_region"
	CodeBadDeadline        = "bad_deadline"
	CodeBadExpiry          = "bad_expiry"
	CodeBadTerms           = "bad_terms"
	CodeBadDetails         = "bad_details"
	CodeBadVendor          = "bad_vendor"
	CodeBadID              = "bad_id"
	CodeBadURL             = "bad_url"
	CodeBadEvents          = "bad_events"
	CodeBadKey             = "bad_key"
	CodeRemoteInvalid      = "remote_invalid"
	CodeUnknownIntent      = "unknown_intent"
	CodeUnknownOffer       = "unknown_offer"
	CodeUnknownWebhook     = "unknown_webhook"
	CodeIntentNotOpen      = "intent_not_open"
	CodeOfferNotAcceptable = "offer_not_acceptable"
	CodeIntentNotLive      = "intent_not_live"
	CodeIntentClosed       = "intent_closed"
	CodeOwnIntent          = "own_intent"
	CodeNotFound           = "not_found"
	CodeMethodNotAllowed   = "method_not_allowed"
	CodeMintingCancelled   = "minting_cancelled"
	CodeNodeClosed         = "node_closed"
	CodeRefused            = "refused"
	CodeDealUnverifiable   = "deal_unverifiable"
	CodeTooManyWebhooks    = "too_many_webhooks"
	CodeClientClosed       = "client_closed"
	CodeInternal           = "internal"
)

// The error codes of negotiation threads.
const (
	CodeThreadClosed = "thread_closed" // 409: the intent is no longer open; its threads take no more messages
	CodeThreadFull   = "thread_full"   // 409: the thread holds its 8 messages
	CodeNotYourTurn  = "not_your_turn" // 409: the other party's message is due first
	CodeBadMessage   = "bad_message"   // 400: a counter or reply that says nothing
)

// The error codes of the peers endpoints.
const (
	CodeBadAddr      = "bad_addr"      // 400: not a dialable multiaddr ending in /p2p/<peer ID>
	CodeDialFailed   = "dial_failed"   // 502: the peer did not answer; the remote side's fault, not ours
	CodeNotConnected = "not_connected" // 404: no connection to that peer
)
