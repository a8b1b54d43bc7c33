package node

import (
	"cmp"
	"sync"
	"time"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node/store"
)

// Store-and-forward. Gossip hands a sealed offer to the nodes online when it
// passes; a customer whose laptop slept misses it for good. So every node
// keeps the sealed offers it relays for the live intents of its
// categories, until the intent expires plus the allowed skew, and serves
// them by /intentcast/sync/2 (sync*.go) to nodes that come back. They are
// sealed to the intent's reply key: a relay learns nothing by keeping them
// but what it saw relaying them. Accepts and cancels are kept as the
// intents' tombstones (closure.go) and served the same way.
//
// What is kept is bounded per intent, per category and in bytes
// (RelayLimits, docs/RELIABILITY.md): once a bound is reached, further
// offers are still relayed by gossip but not kept.

// RelayLimits bound what a node keeps for store-and-forward. The zero
// value means the defaults.
type RelayLimits struct {
	// PerIntent bounds the offers kept for one intent (default 64).
	PerIntent int
	// PerCategory bounds the offers kept for the intents of one category
	// (default 20000).
	PerCategory int
	// Bytes bounds the wire bytes of all offers kept (default 64 MiB).
	Bytes int
}

func (l RelayLimits) withDefaults() RelayLimits {
	l.PerIntent = cmp.Or(l.PerIntent, 64)
	l.PerCategory = cmp.Or(l.PerCategory, 20_000)
	l.Bytes = cmp.Or(l.Bytes, 64<<20)
	return l
}

// relayKeeper counts what is kept against the limits. The counts live in
// memory, rebuilt from the store at start; an intent's count is dropped
// when the intent's offers expire (the store prunes them at the same time).
type relayKeeper struct {
	mu      sync.Mutex
	limits  RelayLimits
	intents map[intent.ID]*relayCount
	perCat  map[string]int
	bytes   int
}

type relayCount struct {
	category string
	offers   int
	bytes    int
	until    time.Time
}

func newRelayKeeper(l RelayLimits) *relayKeeper {
	return &relayKeeper{limits: l, intents: make(map[intent.ID]*relayCount), perCat: make(map[string]int)}
}

// admit counts one more kept offer of size bytes for an intent of category
// whose offers are kept until `until`, and reports whether it is within
// every limit (if not, nothing is counted).
func (k *relayKeeper) admit(intentID intent.ID, category string, size int, until time.Time) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	c := k.intents[intentID]
	if c == nil {
		c = &relayCount{category: category, until: until}
	}
	if c.offers >= k.limits.PerIntent || k.perCat[category] >= k.limits.PerCategory || k.bytes+size > k.limits.Bytes {
		return false
	}
	k.intents[intentID] = c
	c.offers++
	c.bytes += size
	k.perCat[category]++
	k.bytes += size
	return true
}

// prune forgets the counts of intents whose offers expired before now.
func (k *relayKeeper) prune(now time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for id, c := range k.intents {
		if c.until.Before(now) {
			k.perCat[c.category] -= c.offers
			k.bytes -= c.bytes
			delete(k.intents, id)
		}
	}
}

// keepOffer keeps a sealed offer that passed validation, if the limits
// allow: written behind with the replay index, in its next flush.
func (n *Node) keepOffer(s *intent.SealedOffer, in *intent.SignedIntent) {
	until := in.Body.ExpiresAt().Add(n.cfg.Policy.Skew())
	if !n.relay.admit(in.ID, in.Body.Category, len(s.Raw), until) {
		n.log.Debug("store-and-forward is full: offer relayed, not kept", "offer", s.ID.Short(), "intent", in.ID.Short())
		return
	}
	n.replay.putRelayed(store.RelayedOffer{ID: s.ID, IntentID: in.ID, Category: in.Body.Category, Raw: s.Raw, Expires: until})
}

// loadRelayed counts the offers the store keeps, at start.
func (n *Node) loadRelayed(kept []store.RelayedOffer) {
	for _, o := range kept {
		n.relay.admit(o.IntentID, o.Category, len(o.Raw), o.Expires)
	}
}
