package client

import (
	"time"

	"github.com/intentcast/intentcast/intent"
)

// This file holds the API's JSON shapes, shared by the server (node/api)
// and the client. Field names are snake_case; IDs are 64 lower-case hex digits;
// times are RFC 3339; amounts come twice, as a decimal string in the
// currency's major unit ("1200.50") and as an integer in minor units
// (120050), so that scripts never need to know a currency's exponent.

// PublishRequest is the body of POST /v1/intents.
type PublishRequest struct {
	Category string   `json:"category"`
	Path     []string `json:"path,omitempty"`
	Text     string   `json:"text,omitempty"`
	// Quantity defaults to 1.
	Quantity uint64 `json:"quantity,omitempty"`
	// The price ceiling: either MaxPrice, a decimal in the currency's major
	// unit ("1200.50", "1200"), or MaxPriceMinor, an integer in minor units
	// (120050). Exactly one is required.
	MaxPrice      string  `json:"max_price,omitempty"`
	MaxPriceMinor *uint64 `json:"max_price_minor,omitempty"`
	Currency      string  `json:"currency"`
	Region        string  `json:"region,omitempty"`
	// DeliverBy is RFC 3339 ("2026-05-01T12:00:00Z") or a date
	// ("2026-05-01", meaning the end of that day, UTC). Empty means no
	// deadline.
	DeliverBy string `json:"deliver_by,omitempty"`
	// ExpiresIn is how long the intent stays live: a Go duration ("72h",
	// "90m") or whole days ("7d"). Empty means 72h; at most 30 days.
	ExpiresIn string `json:"expires_in,omitempty"`
	// Terms are roster names (GET /v1/protocol). Absent (nil) means the
	// default terms; an empty list means none.
	Terms       []string          `json:"terms,omitzero"`
	CustomTerms map[string]string `json:"custom_terms,omitempty"`
	// PostQuantum asks for an X-Wing (ML-KEM-768 + X25519) reply key, so
	// offers to this intent are sealed post-quantum.
	PostQuantum bool `json:"post_quantum,omitempty"`
}

// MintProgress reports the proof-of-work search while an intent is minted:
// Tries hashes so far, Expected on average (2^work).
type MintProgress struct {
	Tries    uint64 `json:"tries"`
	Expected uint64 `json:"expected"`
}

// IntentView is an intent as the API shows it: one of this node's own
// intents (Own true) or a live intent seen on the network.
type IntentView struct {
	ID            string            `json:"id"`
	Own           bool              `json:"own"`
	Category      string            `json:"category"`
	Path          []string          `json:"path,omitempty"`
	Text          string            `json:"text,omitempty"`
	Quantity      uint64            `json:"quantity"`
	MaxPrice      string            `json:"max_price"`
	MaxPriceMinor uint64            `json:"max_price_minor"`
	Currency      string            `json:"currency"`
	Region        string            `json:"region,omitempty"`
	DeliverBy     time.Time         `json:"deliver_by,omitzero"`
	Terms         []string          `json:"terms"`
	CustomTerms   map[string]string `json:"custom_terms,omitempty"`
	Created       time.Time         `json:"created"`
	Expires       time.Time         `json:"expires"`
	// State is open, cancelled, accepted or expired for own intents; for
	// intents seen on the network it is live, or, once closed, accepted
	// (the customer took an offer, perhaps another vendor's) or cancelled.
	// Only a live intent takes offers.
	State         string `json:"state"`
	AcceptedOffer string `json:"accepted_offer,omitempty"`
	// Offers counts the offers this node holds for the intent that were
	// not refused (received ones for own intents, sent ones otherwise);
	// RefusedOffers those that broke the customer's terms.
	Offers        int  `json:"offers"`
	RefusedOffers int  `json:"refused_offers,omitempty"`
	Work          uint `json:"work"`
	PostQuantum   bool `json:"post_quantum,omitempty"`
	// Send says how far an own intent got on its way to the network;
	// CancelSend and AcceptSend the same for its cancel or accept.
	Send       *SendView `json:"send,omitempty"`
	CancelSend *SendView `json:"cancel_send,omitempty"`
	AcceptSend *SendView `json:"accept_send,omitempty"`
}

// SendView says how far one of this node's own messages (an intent, an
// offer, an accept, a cancel) got. Status is queued (no peer has it yet:
// the node had none to send it to, keeps it across restarts and sends it
// when one connects), sent (handed to Peers peers), seen (a peer showed
// the network has it: it came back by gossip) or refused (this node's own
// check refused it, Reason says why; it never left). Each time is when it
// reached that status.
type SendView struct {
	Status  string    `json:"status"`
	Peers   int       `json:"peers,omitempty"`
	Reason  string    `json:"reason,omitempty"`
	Queued  time.Time `json:"queued,omitzero"`
	Sent    time.Time `json:"sent,omitzero"`
	Seen    time.Time `json:"seen,omitzero"`
	Refused time.Time `json:"refused,omitzero"`
}

// The statuses of a SendView.
const (
	SendQueued  = "queued"
	SendSent    = "sent"
	SendSeen    = "seen"
	SendRefused = "refused"
)

// The states of an IntentView.
const (
	StateOpen      = "open"
	StateCancelled = "cancelled"
	StateAccepted  = "accepted"
	StateExpired   = "expired"
	StateLive      = "live"
)

// VendorView is how a vendor presents itself in an offer. Key is the
// vendor's long-term Ed25519 public key in hex: the same key on two offers
// means the same vendor.
type VendorView struct {
	Name string `json:"name"`
	URL  string `json:"url,omitempty"`
	Key  string `json:"key,omitempty"`
}

// OfferView is an offer received (customer side) or sent (vendor side).
type OfferView struct {
	ID        string `json:"id"`
	IntentID  string `json:"intent_id"`
	Direction string `json:"direction"` // received or sent
	// Status is valid, refused (broke the customer's terms; kept as
	// evidence, Reason says why), accepted, or lapsed (the intent closed
	// without it: another offer was accepted or the intent was cancelled;
	// or it arrived after that). For a sent offer valid means pending.
	Status     string     `json:"status"`
	Reason     string     `json:"reason,omitempty"`
	Price      string     `json:"price,omitempty"`
	PriceMinor uint64     `json:"price_minor"`
	Currency   string     `json:"currency,omitempty"`
	Text       string     `json:"text,omitempty"`
	Vendor     VendorView `json:"vendor"`
	Created    time.Time  `json:"created,omitzero"`
	ValidUntil time.Time  `json:"valid_until,omitzero"`
	// TermsOK reports that the offer commits to the hash of the intent's
	// terms.
	TermsOK  bool      `json:"terms_ok"`
	Received time.Time `json:"received"`
	// VendorReputation is this node's record of the offer's vendor key,
	// from the ratings it verified (opened offers only).
	VendorReputation *ReputationView `json:"vendor_reputation,omitempty"`
	// Send says how far an offer this node sent got.
	Send *SendView `json:"send,omitempty"`
}

// DealView is an accepted offer: the record both sides keep.
type DealView struct {
	IntentID string    `json:"intent_id"`
	OfferID  string    `json:"offer_id"`
	Role     string    `json:"role"` // customer or vendor
	Closed   time.Time `json:"closed"`
	// Details are the contact or delivery details the customer sent with
	// the accept, sealed to the vendor: only the vendor's side shows them.
	Details string     `json:"details,omitempty"`
	Offer   OfferView  `json:"offer"`
	Intent  IntentView `json:"intent"`
}

// EventView is one event of GET /v1/events and of webhook deliveries. Kind
// is one of the event kinds (kinds.go). Intent and Offer are filled in
// where the node still holds them. A send event reports that one of this
// node's own messages moved on (Send; Message names its kind: intent,
// offer, accept or cancel; Status repeats its status).
type EventView struct {
	Kind     string      `json:"kind"`
	IntentID string      `json:"intent_id,omitempty"`
	OfferID  string      `json:"offer_id,omitempty"`
	Status   string      `json:"status,omitempty"`
	Reason   string      `json:"reason,omitempty"`
	Intent   *IntentView `json:"intent,omitempty"`
	Offer    *OfferView  `json:"offer,omitempty"`
	// Rating is the rating (with its reply) of rating and rating-reply;
	// Profile the profile of vendor-profile.
	Rating  *RatingView  `json:"rating,omitempty"`
	Profile *ProfileView `json:"profile,omitempty"`
	Thread  *ThreadView  `json:"thread,omitempty"` // for thread
	Message string       `json:"message,omitempty"`
	Send    *SendView    `json:"send,omitempty"`
}

// NodeInfo answers GET /v1/node.
type NodeInfo struct {
	PeerID     string   `json:"peer_id"`
	Addrs      []string `json:"addrs"`
	Categories []string `json:"categories"`
	Version    string   `json:"version"`
	// MinWork is the proof of work, in bits, an intent needs by default
	// on this node's network.
	MinWork int `json:"min_work"`
	// MinOfferWork is the proof of work, in bits, every sealed offer needs
	// on this network; sending an offer mints it.
	MinOfferWork int        `json:"min_offer_work"`
	Vendor       VendorView `json:"vendor"`
}

// CurrencyInfo says how many decimals a currency's minor unit has.
type CurrencyInfo struct {
	Code     string `json:"code"`
	Exponent int    `json:"exponent"`
}

// ProtocolInfo answers GET /v1/protocol: what a client needs to compose a
// valid intent.
type ProtocolInfo struct {
	// Categories is the protocol's roster; Served those this node serves.
	Categories   []string          `json:"categories"`
	Served       []string          `json:"served"`
	Terms        []intent.TermInfo `json:"terms"`
	DefaultTerms []string          `json:"default_terms"`
	// Currencies is a hint: any ISO 4217 code is accepted; those not
	// listed have 2 decimals.
	Currencies []CurrencyInfo `json:"currencies"`
	Limits     Limits         `json:"limits"`
}

// Limits are the protocol's bounds that a form should enforce.
type Limits struct {
	MaxText         int    `json:"max_text"`
	MaxPathDepth    int    `json:"max_path_depth"`
	MaxPathSegment  int    `json:"max_path_segment"`
	MaxQuantity     uint64 `json:"max_quantity"`
	MaxCustomTerms  int    `json:"max_custom_terms"`
	MaxLifetime     string `json:"max_lifetime"`
	MaxOfferTTL     string `json:"max_offer_ttl"`
	MaxAcceptDetail int    `json:"max_accept_details"`
}

// AcceptRequest is the body of POST /v1/intents/{id}/offers/{offer}/accept.
type AcceptRequest struct {
	// Details (contact, delivery address) are sealed to the vendor; only
	// the vendor can read them.
	Details string `json:"details,omitempty"`
}

// OfferRequest is the body of POST /v1/vendor/offers.
type OfferRequest struct {
	IntentID string `json:"intent_id"`
	// Price as a decimal in major units ("999.00") or PriceMinor in minor
	// units (99900); exactly one is required.
	Price      string  `json:"price,omitempty"`
	PriceMinor *uint64 `json:"price_minor,omitempty"`
	// Currency defaults to the intent's; any other would be refused.
	Currency string `json:"currency,omitempty"`
	Text     string `json:"text,omitempty"`
	// ValidFor is how long the offer holds ("24h", "7d"); empty means the
	// node's default (24h), never past the intent's expiry.
	ValidFor string `json:"valid_for,omitempty"`
	// VendorName and VendorURL default to the node's configured vendor.
	VendorName string `json:"vendor_name,omitempty"`
	VendorURL  string `json:"vendor_url,omitempty"`
}

// WebhookRequest is the body of POST /v1/webhooks.
type WebhookRequest struct {
	URL    string   `json:"url"`
	Events []string `json:"events,omitempty"`
}

// Webhook is a registered webhook. Secret is returned only when it is
// created; the counters say how delivery goes.
type Webhook struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	Events    []string  `json:"events"`
	Secret    string    `json:"secret,omitempty"`
	Created   time.Time `json:"created"`
	Delivered uint64    `json:"delivered"`
	Failed    uint64    `json:"failed"`
	Dropped   uint64    `json:"dropped"`
	LastError string    `json:"last_error,omitempty"`
}

// ErrorBody is the JSON body of every error response.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is a stable, machine-readable code and a message for people.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// Field names the request field at fault ("max_price"), when one is:
	// the message is then a sentence to show next to that input.
	Field string `json:"field,omitempty"`
	// Status repeats the HTTP status on the event stream of
	// POST /v1/intents, where the response status is already 200.
	Status int `json:"status,omitempty"`
}

// Filter is the vendor filter (GET and PUT /v1/vendor/filter): which live
// intents of the node's categories reach the feed and the intent events.
// An empty field does not filter. Its fields are node.Filter's, so that
// the server converts one into the other and a field added to only one of
// them fails the build.
type Filter struct {
	Categories []string `json:"categories,omitempty"` // empty: every category the node serves
	Path       []string `json:"path,omitempty"`       // sub-category prefix, e.g. ["laptops"]
	Regions    []string `json:"regions,omitempty"`    // regions served; an intent without a region matches any
	Keywords   []string `json:"keywords,omitempty"`   // any of them, case-insensitive, in the text or path
	// MinPrice: ignore intents whose ceiling is below this, in minor units
	// of the one currency in Currencies; a filter with a minimum price
	// names exactly one currency (400 otherwise, field min_price), as
	// amounts in different currencies cannot be compared.
	MinPrice   uint64   `json:"min_price,omitempty"`
	Currencies []string `json:"currencies,omitempty"` // empty: any
}

// ContentTypeDealRecord is the media type of an exported deal record
// (GET /v1/deals/{id}/record).
const ContentTypeDealRecord = "application/cbor"

// NetworkStatus answers GET /v1/network: how others can reach this node.
type NetworkStatus struct {
	// Reachability is AutoNAT's verdict: "public", "private" or "unknown".
	Reachability string `json:"reachability"`
	// Addrs are the addresses the node announces (listen, observed,
	// relayed), each ending in /p2p/<peer ID>.
	Addrs []string `json:"addrs"`
	// ReachableAddrs and UnreachableAddrs are AutoNAT v2's dial-back
	// verdicts on single addresses.
	ReachableAddrs   []string `json:"reachable_addrs"`
	UnreachableAddrs []string `json:"unreachable_addrs"`
	// RelayAddrs are the /p2p-circuit addresses: relays hold a slot for us.
	RelayAddrs []string `json:"relay_addrs"`
	// RelayService is true while this node serves as a relay for others.
	RelayService bool `json:"relay_service"`
	// DHT is "off", "client" or "server"; DHTPeers its routing table size.
	DHT      string `json:"dht"`
	DHTPeers int    `json:"dht_peers"`
	// Advertising are the categories announced on the DHT.
	Advertising []string `json:"advertising"`
	// Peers counts connections by kind.
	Peers        int `json:"peers"`
	RelayedPeers int `json:"relayed_peers"`
}

// PeerInfo is one connected peer (GET /v1/peers).
type PeerInfo struct {
	ID string `json:"id"`
	// Addrs are the remote addresses of the connections.
	Addrs []string `json:"addrs"`
	// Relayed is true when every connection goes through a circuit relay
	// (no direct connection yet: hole punching may still bring one).
	Relayed     bool       `json:"relayed"`
	Connections []ConnInfo `json:"connections"`
	// LatencyMS is the smoothed ping round trip in milliseconds; absent
	// when unmeasured (relayed-only peers cannot be pinged).
	LatencyMS float64  `json:"latency_ms,omitempty"`
	Protocols []string `json:"protocols"`
}

// ConnInfo is one connection to a peer.
type ConnInfo struct {
	Addr      string    `json:"addr"`
	Direction string    `json:"direction"` // "inbound" or "outbound"
	Relayed   bool      `json:"relayed"`
	Opened    time.Time `json:"opened,omitzero"`
}

// ConnectRequest is the body of POST /v1/peers.
type ConnectRequest struct {
	// Addr is a multiaddr ending in /p2p/<peer ID>.
	Addr string `json:"addr"`
}
