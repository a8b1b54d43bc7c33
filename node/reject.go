package node

import (
	"errors"
	"sync"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/intentcast/intentcast/intent"
)

// rejectReasons name the validators' errors with docs/PROTOCOL.md's codes
// (and the node's own, for verdicts that depend on its state), for logs and
// metrics. The first that matches names the error.
var rejectReasons = []struct {
	err  error
	name string
}{
	// A rating's deal record fails with the deal check's own error
	// (a bad signature, a record too large...): no-deal names it first.
	{intent.ErrNoDeal, "no-deal"},
	{intent.ErrWrongVendor, "wrong-vendor"},
	{intent.ErrNotBound, "not-bound"},
	{intent.ErrTooLarge, "too-large"},
	{intent.ErrNonCanonical, "non-canonical"},
	{intent.ErrMalformed, "malformed"},
	{intent.ErrBadKey, "bad-key"},
	{intent.ErrLifetime, "lifetime"},
	{intent.ErrInsufficientWork, "insufficient-work"},
	{intent.ErrBadSignature, "bad-signature"},
	{intent.ErrWrongTopic, "wrong-topic"}, // errWrongTopic wraps it
	{intent.ErrSchema, "schema"},
	{intent.ErrVersion, "version"},
	{intent.ErrBelowLocal, "below-local"},
	{intent.ErrFromFuture, "from-future"},
	{intent.ErrExpired, "expired"},
	{errUnknown, "unknown-intent"},
	{errReplay, "replay"},
	{errClosed, "closed"},
	{errLiveSetFull, "live-set-full"},
	{errStoreFailure, "store-failure"},
	{errRatedAlready, "rated-already"},
	{errRepliedAlready, "replied-already"},
	{errUnknownRating, "unknown-rating"},
	{errNotNewer, "not-newer"},
	{errRatingsFull, "ratings-full"},
}

// reasonName returns the code of a validation error ("other" if none).
func reasonName(err error) string {
	for _, r := range rejectReasons {
		if errors.Is(err, r.err) {
			return r.name
		}
	}
	return "other"
}

// rejectLogInterval is how often each reason may be logged: a flood of
// junk must not become a flood of log lines.
const rejectLogInterval = 10 * time.Second

// rejectLog logs refused gossip at info level, once per reason per
// rejectLogInterval, with how many of that reason went unlogged since.
type rejectLog struct {
	mu   sync.Mutex
	last map[string]time.Time
	held map[string]int
}

func newRejectLog() *rejectLog {
	return &rejectLog{last: make(map[string]time.Time), held: make(map[string]int)}
}

func (n *Node) logDropped(topic string, from peer.ID, res pubsub.ValidationResult, err error) {
	reason := reasonName(err)
	verdict := "ignore"
	if res == pubsub.ValidationReject {
		verdict = "reject"
	}
	n.metrics.rejected(topic, verdict, reason)
	l := n.rejects
	now := time.Now()
	l.mu.Lock()
	if now.Sub(l.last[reason]) < rejectLogInterval {
		l.held[reason]++
		l.mu.Unlock()
		return
	}
	suppressed := l.held[reason]
	l.last[reason], l.held[reason] = now, 0
	l.mu.Unlock()
	n.log.Info("gossip refused", "reason", reason, "verdict", verdict, "topic", topic, "from", from,
		"err", err, "same reason unlogged since the last", suppressed)
}
