package intent

import (
	"errors"

	"github.com/intentcast/intentcast/crypto"
)

// Reject-class errors: the message is invalid for every honest node at every
// moment, so whoever forwarded it is penalised.
var (
	ErrTooLarge         = errors.New("message too large")
	ErrMalformed        = errors.New("malformed message")
	ErrNonCanonical     = errors.New("message is not canonically encoded")
	ErrSchema           = errors.New("message breaks the schema")
	ErrLifetime         = errors.New("lifetime over the maximum")
	ErrInsufficientWork = errors.New("insufficient proof of work")
	ErrBadSignature     = crypto.ErrBadSignature
	// ErrBadKey reports a public key (signing or reply) that is not valid
	// for its algorithm: non-canonical, off the curve, or of small order.
	ErrBadKey = crypto.ErrBadKey
	// ErrWrongTopic reports a message on a topic it does not belong on: a
	// kind of the other topic, or another category's intent (CheckTopic).
	ErrWrongTopic = errors.New("message does not belong on this topic")
)

// Ignore-class errors: the verdict depends on the clock or on local state.
var (
	ErrExpired    = errors.New("message has expired")
	ErrFromFuture = errors.New("message created too far in the future")
	ErrBelowLocal = errors.New("proof of work below this node's local minimum")
	// ErrVersion is Ignore, not Reject: a message from a newer protocol
	// version is not invalid, only unknown to this node, and penalising it
	// would make old nodes graylist upgraded ones.
	ErrVersion = errors.New("message from an unknown protocol version")
)

// Errors from opening an offer: each names the check that failed. None of
// them is visible to relays; the customer's node keeps such offers as
// evidence.
var (
	ErrSealed         = crypto.ErrOpen
	ErrWrongIntent    = errors.New("offer names another intent")
	ErrTermsMismatch  = errors.New("offer does not commit to the intent's terms")
	ErrOverCeiling    = errors.New("offer price is over the intent's ceiling")
	ErrCurrency       = errors.New("offer currency differs from the intent's")
	ErrOfferExpired   = errors.New("offer is no longer valid")
	ErrOfferMalformed = errors.New("sealed offer content is malformed")
)

// Ignorable reports whether err is an Ignore-class validation error: the
// message may be valid for another node or at another time, so its sender
// must not be penalised. Any other non-nil validation error means Reject.
func Ignorable(err error) bool {
	return errors.Is(err, ErrExpired) || errors.Is(err, ErrFromFuture) || errors.Is(err, ErrBelowLocal) || errors.Is(err, ErrVersion)
}
