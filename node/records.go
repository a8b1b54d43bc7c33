package node

import (
	"time"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node/store"
)

// The node's state as it shows it to its user (the API, the CLI): parsed
// records, without the private keys the store also holds. The query methods
// (query.go) return them and events carry them, so nothing outside the node
// reads its store or parses what it stored.

// The enums of the records are the store's: one spelling on disk, in the
// node and in the API.
type (
	IntentState = store.IntentState
	OfferStatus = store.OfferStatus
	Direction   = store.Direction
	Role        = store.Role
)

// The values of the records' enums.
const (
	IntentOpen      = store.IntentOpen
	IntentCancelled = store.IntentCancelled
	IntentAccepted  = store.IntentAccepted

	OfferValid    = store.OfferValid
	OfferRefused  = store.OfferRefused
	OfferAccepted = store.OfferAccepted

	Received = store.Received
	Sent     = store.Sent

	RoleCustomer = store.RoleCustomer
	RoleVendor   = store.RoleVendor
)

// ErrNotFound reports a record the node does not hold (it is the store's
// sentinel, so errors.Is matches either).
var ErrNotFound = store.ErrNotFound

// IntentRecord is an intent as this node holds it: one of its own (Own),
// with where it stands, or one seen on the network.
type IntentRecord struct {
	Intent *intent.SignedIntent
	Own    bool
	// State is where an own intent stands. For another's intent it is
	// empty while the intent is live, and cancelled or accepted once the
	// node saw that happen.
	State         IntentState
	AcceptedOffer intent.ID // zero if none
	// Offers counts the offers the node holds for the intent that were not
	// refused (received ones for own intents, those this node sent
	// otherwise); Refused those that broke the customer's terms.
	Offers, Refused int
	// Sends says how far this node's own messages about an own intent
	// got: the intent, then its cancel or accept (outbox.go).
	Sends []SendRecord
}

// OfferRecord is a sealed offer this node received (to one of its own
// intents) or sent.
type OfferRecord struct {
	ID, IntentID intent.ID
	Direction    Direction
	Status       OfferStatus
	Reason       string // why it was refused
	Received     time.Time
	// Offer is the opened, vendor-signed offer; nil if it could not be
	// opened (Reason says why).
	Offer *intent.SignedOffer
	// TermsOK reports that the offer commits to the hash of its intent's
	// terms.
	TermsOK bool
	// Send says how far an offer this node sent got; nil for received
	// ones.
	Send *SendRecord
}

// DealRecord is an accepted offer: the matching record both sides keep.
type DealRecord struct {
	IntentID, OfferID intent.ID
	Role              Role
	Closed            time.Time
	Intent            IntentRecord
	Offer             OfferRecord
	Accept            *intent.SignedAccept
	// Details are what the customer sealed to the vendor with the accept,
	// opened; only the vendor's side has them.
	Details []byte
}

// offerRecord turns a stored offer into its record. in is the intent it
// answers, if known: it decides TermsOK for a received offer.
func offerRecord(o store.Offer, in *intent.SignedIntent) OfferRecord {
	r := OfferRecord{
		ID: o.ID, IntentID: o.IntentID, Direction: o.Direction,
		Status: o.Status, Reason: o.Reason, Received: o.Received,
	}
	if len(o.Inner) == 0 {
		return r // refused before it could be opened: only the reason is known
	}
	signed, err := intent.ParseOffer(o.Inner)
	if signed == nil {
		if r.Reason == "" {
			r.Reason = err.Error()
		}
		return r
	}
	r.Offer = signed
	switch {
	case o.Direction == store.Sent:
		r.TermsOK = true // this node made the commitment from the intent
	case in != nil:
		th := in.TermsHash()
		r.TermsOK = string(signed.Body.TermsHash) == string(th[:])
	}
	return r
}
