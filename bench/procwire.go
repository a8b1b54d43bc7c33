package bench

import (
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// procMsg is one line between a ProcSwarm and one of its peer processes
// (ChildMain), as JSON. The parent sends requests, each with an ID; the
// child answers each with a reply carrying the same ID (and Err if it
// failed), and sends events, which have no ID: "got" when its peer
// delivered a message, "sent" when it first queued one for another peer,
// and in a round trip "step" when its peer took a step of it and "fail"
// (with Err) when a step failed.
// Timestamps are wall-clock nanoseconds: parent and children share the
// machine's clock.
type procMsg struct {
	Op  string `json:"op"`
	ID  int64  `json:"id,omitempty"`
	Err string `json:"err,omitempty"`

	// "start": the peer to run.
	System  string `json:"system,omitempty"` // Raw, RawPolicy, IntentcastNoStem or Intentcast
	Payload int    `json:"payload,omitempty"`
	MinWork int    `json:"minWork,omitempty"`
	Topics  int    `json:"topics,omitempty"` // raw: 2 joins the round trip's second topic too
	// its reply: who the peer is and where it listens.
	Peer *peer.AddrInfo `json:"peer,omitempty"`

	// "dial": the peers to connect to.
	Dial []peer.AddrInfo `json:"dial,omitempty"`

	// "mesh"'s reply.
	Peers   int                 `json:"peers,omitempty"`
	Mesh    map[string][]string `json:"mesh,omitempty"`
	Changes int64               `json:"changes,omitempty"`

	// "run": a new load run begins; raw payloads carry its ID.
	Run uint32 `json:"run,omitempty"`

	// "publish": message K; for intentcast, the minted intent and its keys.
	K          int    `json:"k,omitempty"`
	Raw        []byte `json:"raw,omitempty"`
	SigningKey []byte `json:"signingKey,omitempty"` // Ed25519 seed
	ReplyKey   []byte `json:"replyKey,omitempty"`
	ReplySuite uint16 `json:"replySuite,omitempty"`

	// "trip": this peer's part in a round trip. Self is its index, by
	// which raw offers name their vendor; OfferSize and AcceptSize are raw
	// payload sizes.
	Self       int  `json:"self,omitempty"`
	Vendor     bool `json:"vendor,omitempty"`
	OfferSize  int  `json:"offerSize,omitempty"`
	AcceptSize int  `json:"acceptSize,omitempty"`

	// A "step" event: reached (a vendor has the intent), offer (the
	// customer has an offer), offered (its first valid one), answered (the
	// customer's accept call returned) or accepted (the vendor has the
	// accept), of intent K (raw) or Intent (intentcast), at At.
	Step string `json:"step,omitempty"`

	// "end"'s reply: the phase since "begin".
	Phase *phaseStats `json:"phase,omitempty"`
	// "counters"' reply.
	Counters *routerCounters `json:"counters,omitempty"`

	// Events: for raw, message K of the current run; for intentcast, the
	// intent's ID ("got") or the last 8 bytes of its signature ("sent").
	// A "got" also carries when the peer's router delivered the message
	// (Routed), if it saw that: one line per delivery, not two.
	At     int64  `json:"at,omitempty"`
	Routed int64  `json:"routed,omitempty"`
	Intent []byte `json:"intent,omitempty"`
	Tail   uint64 `json:"tail,omitempty"`
}

// procCallTimeout bounds a request to a peer process that is not a
// publish: a process that does not answer within it is stuck.
const procCallTimeout = time.Minute
