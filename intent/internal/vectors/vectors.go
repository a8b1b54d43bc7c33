// Package vectors builds intentcast's test vectors: one valid message of
// each kind and invalid ones that each break one rule, with the verdict every
// implementation must reach. They are written to intent/testdata/vectors.json
// and rendered into docs/PROTOCOL.md by cmd/genvectors, and checked against
// the real code by intent/vectors_test.go.
//
// Everything is deterministic (fixed keys, fixed times, Ed25519 signatures,
// minted nonces) except HPKE sealing by the real code, which draws a fresh
// ephemeral key each time. The first two sealed parts (the offer and the
// accept's details) were sealed that way, so they are frozen in frozen.json
// and reused as long as they still open, with the real code, to exactly the
// plaintext Generate builds; only then is the rest, which depends on them
// (the accept names the sealed offer's ID), deterministic too. The later
// sealed offers are sealed here from fixed randomness (hpke.go), and list
// it, so that another implementation can reproduce their bytes.
package vectors

import (
	"encoding/hex"
	"time"

	"github.com/intentcast/intentcast/intent"
)

// Set is the whole set of vectors and what is needed to check them.
type Set struct {
	Comment string `json:"comment"`
	// Now is the time every vector is validated at, in unix seconds.
	Now    int64  `json:"now"`
	NowUTC string `json:"now_utc"`
	// MinWork is the network's minimum proof of work (Policy.MinWork);
	// MaxSkew the allowed clock skew in seconds (the default).
	MinWork int `json:"min_work"`
	// MinOfferWork is the network's minimum work of a sealed offer
	// (Policy.MinOfferWork).
	MinOfferWork int       `json:"min_offer_work"`
	MaxSkew      int64     `json:"max_skew_seconds"`
	Keys         Keys      `json:"keys"`
	Vectors      []Vec     `json:"vectors"`
	Offer        Opened    `json:"opened_offer"`
	Details      string    `json:"accept_details"` // the plaintext sealed in the valid accept
	Deals        []DealVec `json:"deal_records"`
	// MinRatingWork is the network's minimum work of a rating, a rating
	// reply and a vendor profile (Policy.MinRatingWork); Ratings are the
	// vectors of the ratings topic.
	MinRatingWork int         `json:"min_rating_work"`
	Ratings       []Vec       `json:"ratings"`
	Threads       []ThreadVec `json:"threads"`
	Resealed      bool        `json:"-"` // frozen.json was stale: write Frozen()
	frozen        *Frozen     // the sealed parts this set used
}

// Keys are the fixed private keys behind the vectors. Reply keys are HPKE
// DHKEM(X25519) private keys in RFC 9180 SerializePrivateKey form.
type Keys struct {
	IntentSigningSeed   Hex    `json:"intent_signing_seed"`
	IntentSigningPublic Hex    `json:"intent_signing_public"`
	IntentReplySuite    uint16 `json:"intent_reply_suite"`
	IntentReplyPrivate  Hex    `json:"intent_reply_private"`
	IntentReplyPublic   Hex    `json:"intent_reply_public"`
	VendorSigningSeed   Hex    `json:"vendor_signing_seed"`
	VendorSigningPublic Hex    `json:"vendor_signing_public"`
	VendorReplySuite    uint16 `json:"vendor_reply_suite"`
	VendorReplyPrivate  Hex    `json:"vendor_reply_private"`
	VendorReplyPublic   Hex    `json:"vendor_reply_public"`
	// IntentReplyXWingSeed is the X-Wing private key (a 32-byte seed) of
	// intent-xwing; its public key is that intent's key 9.
	IntentReplyXWingSeed Hex `json:"intent_reply_xwing_seed"`
}

// Verdicts.
const (
	Valid  = "valid"
	Reject = "reject"
	Ignore = "ignore"
)

// Kinds, named like their content types.
const (
	KindIntent = "intent"
	KindOffer  = "sealed-offer"
	KindAccept = "accept"
	KindCancel = "cancel"
)

// Vec is one vector.
type Vec struct {
	Name        string `json:"name"`
	Kind        string `json:"kind"`
	Description string `json:"description"`
	// Intent names the intent vector an offer, accept or cancel is checked
	// against.
	Intent string `json:"intent,omitempty"`
	// Topic is the gossip topic the vector is received on.
	Topic   string `json:"topic"`
	Verdict string `json:"verdict"`
	// Error is the error code (docs/PROTOCOL.md, "Validation") of the first
	// check that fails; empty when valid.
	Error string `json:"error,omitempty"`
	// Frozen marks bytes that hold HPKE output: they are checked by opening
	// them, not by regenerating them.
	Frozen bool   `json:"frozen,omitempty"`
	ID     string `json:"id"` // SHA-256 of Wire
	Wire   Hex    `json:"wire"`
	// Seal, for a sealed offer sealed with fixed randomness, is what it was
	// sealed from.
	Seal *Seal `json:"seal,omitempty"`
}

// Opened is what the valid sealed offer must open to.
type Opened struct {
	Inner      Hex    `json:"inner"` // the vendor-signed COSE_Sign1 offer
	IntentID   Hex    `json:"intent_id"`
	TermsHash  Hex    `json:"terms_hash"`
	Price      uint64 `json:"price"`
	Currency   string `json:"currency"`
	Text       string `json:"text"`
	Created    int64  `json:"created"`
	ValidUntil int64  `json:"valid_until"`
	VendorName string `json:"vendor_name"`
	VendorURL  string `json:"vendor_url"`
}

// Hex is a byte string that JSON shows in lower-case hex.
type Hex []byte

func (h Hex) MarshalText() ([]byte, error) { return []byte(hex.EncodeToString(h)), nil }

func (h *Hex) UnmarshalText(b []byte) error {
	d, err := hex.DecodeString(string(b))
	*h = d
	return err
}

// Codes maps the stable, language-neutral error codes of the vectors and
// docs/PROTOCOL.md to the intent package's validation errors.
var Codes = map[string]error{
	"too-large":         intent.ErrTooLarge,
	"malformed":         intent.ErrMalformed,
	"non-canonical":     intent.ErrNonCanonical,
	"schema":            intent.ErrSchema,
	"lifetime":          intent.ErrLifetime,
	"insufficient-work": intent.ErrInsufficientWork,
	"bad-signature":     intent.ErrBadSignature,
	"bad-key":           intent.ErrBadKey,
	"wrong-topic":       intent.ErrWrongTopic,
	"version":           intent.ErrVersion,
	"expired":           intent.ErrExpired,
	"from-future":       intent.ErrFromFuture,
	"below-local":       intent.ErrBelowLocal,
	"no-deal":           intent.ErrNoDeal,
	"wrong-vendor":      intent.ErrWrongVendor,
	"not-bound":         intent.ErrNotBound,
}

// The fixed parameters.
var (
	now          = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	minWork      = 12
	minOfferWork = 8
)

// Policy returns the validation policy the vectors are checked under.
func (s *Set) Policy() intent.Policy {
	return intent.Policy{MinWork: s.MinWork, MinOfferWork: s.MinOfferWork, MinRatingWork: s.MinRatingWork}
}

// Time returns Now as a time.
func (s *Set) Time() time.Time { return time.Unix(s.Now, 0) }

// Vector returns the vector called name, or nil.
func (s *Set) Vector(name string) *Vec {
	for i := range s.Vectors {
		if s.Vectors[i].Name == name {
			return &s.Vectors[i]
		}
	}
	return nil
}
