package store

import "time"

// Rating is a verified rating this node keeps, with the vendor's reply to
// it if one came. Ratings do not expire: a vendor's record outlives the
// intents it was built from.
type Rating struct {
	ID        ID
	IntentID  ID     // the rated intent: a store keeps one rating per intent
	VendorKey []byte // the rated vendor's 32-byte Ed25519 key
	Category  string // the rated intent's category: sync serves ratings by it
	Score     uint8
	Raw       []byte    // the signed rating's wire bytes
	Created   time.Time // the rating's own created time
	Received  time.Time
	// Witnessed is this node's own observation: it had seen the rated
	// intent on the network before the rating came (docs/TRUST.md).
	Witnessed bool
	// The vendor's reply, if any: its ID (zero if none) and wire bytes.
	ReplyID  ID
	ReplyRaw []byte
}

// VendorProfile is the newest profile this node holds of a vendor key.
type VendorProfile struct {
	VendorKey ID // the vendor's Ed25519 public key (32 bytes, like an ID)
	ID        ID // the profile message's ID
	Raw       []byte
	Created   time.Time
}
