package node

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node/store"
)

// Store-and-forward. Gossip hands a sealed offer to the nodes online when it
// passes; a customer whose laptop slept misses it for good. So every node
// keeps the sealed offers it relays for the live intents of its
// categories, until the intent expires plus the allowed skew, and serves
// them by /intentcast/sync/2 and /3 (sync*.go) to nodes that come back. They are
// sealed to the intent's reply key: a relay learns nothing by keeping them
// but what it saw relaying them. Accepts and cancels are kept as the
// intents' tombstones (closure.go) and served the same way.
//
// What is kept is bounded per intent, per category and in bytes
// (RelayLimits, docs/RELIABILITY.md). A relay cannot read an offer, so
// "first come" would let 64 cheap junk offers take an intent's slots for
// good; instead, when an intent's slots are full, an offer with more work
// than the least-worked kept one takes its place (on equal work the older
// stays). Junk then costs at least the work of the real offers it
// displaces. Past the category and byte bounds, further offers are still
// relayed by gossip but not kept.

// RelayLimits bound what a node keeps for store-and-forward. The zero
// value means the defaults.
type RelayLimits struct {
	// PerIntent bounds the offers kept for one intent (default 64); when
	// full, the least-worked gives way to one with more work.
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

// relayKeeper tracks what is kept against the limits. It lives in memory,
// rebuilt from the store at start; an intent's entry is dropped when the
// intent's offers expire (the store prunes them at the same time).
type relayKeeper struct {
	mu      sync.Mutex
	limits  RelayLimits
	intents map[intent.ID]*relayCount
	perCat  map[string]int
	bytes   int
}

func newRelayKeeper(l RelayLimits) *relayKeeper {
	return &relayKeeper{limits: l, intents: make(map[intent.ID]*relayCount), perCat: make(map[string]int)}
}

type relayCount struct {
	category string
	until    time.Time
	kept     []keptOffer // in the order they were kept, oldest first
	bytes    int
}

// keptOffer is what the keeper needs of a kept offer to choose which one
// gives way.
type keptOffer struct {
	id   intent.ID
	work int
	size int
}

// admit decides whether an offer of an intent of category, with work bits
// and size bytes, whose offers are kept until `until`, is kept. If the
// intent's slots are full, it takes the place of the least-worked kept
// offer (the newest of those, if several) when it has more work than that
// one: admit then reports the displaced offer's ID, which the caller must
// delete. Nothing is counted for an offer that is not kept.
func (k *relayKeeper) admit(intentID intent.ID, category string, o keptOffer, until time.Time) (keep bool, displaced intent.ID, ok bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	c := k.intents[intentID]
	if c == nil {
		c = &relayCount{category: category, until: until}
	}
	if len(c.kept) < k.limits.PerIntent {
		if k.perCat[category] >= k.limits.PerCategory || k.bytes+o.size > k.limits.Bytes {
			return false, intent.ID{}, false
		}
		k.intents[intentID] = c
		c.kept = append(c.kept, o)
		c.bytes += o.size
		k.perCat[category]++
		k.bytes += o.size
		return true, intent.ID{}, false
	}
	least := 0
	for i, kept := range c.kept {
		if kept.work <= c.kept[least].work { // <=: the newest of the least-worked gives way
			least = i
		}
	}
	victim := c.kept[least]
	if o.work <= victim.work || k.bytes-victim.size+o.size > k.limits.Bytes {
		return false, intent.ID{}, false
	}
	c.kept = append(slices.Delete(c.kept, least, least+1), o)
	c.bytes += o.size - victim.size
	k.bytes += o.size - victim.size
	return true, victim.id, true
}

// prune forgets the intents whose offers expired before now.
func (k *relayKeeper) prune(now time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for id, c := range k.intents {
		if c.until.Before(now) {
			k.perCat[c.category] -= len(c.kept)
			k.bytes -= c.bytes
			delete(k.intents, id)
		}
	}
}

// keepOffer keeps a sealed offer that passed validation, if the limits
// allow: written behind with the replay index, in its next flush, with
// the deletion of the offer it displaced, if any.
func (n *Node) keepOffer(s *intent.SealedOffer, in liveEntry) {
	if o, ok := n.admitOffer(s, in); ok {
		n.replay.putRelayed(o)
	}
}

// admitOffer is keepOffer for a caller that writes the kept copy itself:
// it returns the record to write, if the limits keep it.
func (n *Node) admitOffer(s *intent.SealedOffer, in liveEntry) (store.RelayedOffer, bool) {
	o := store.RelayedOffer{ID: s.ID, IntentID: s.IntentID, Category: in.category.Value(), Raw: s.Raw,
		Expires: in.expiresAt().Add(n.cfg.Policy.Skew()), Kept: n.now()}
	return o, n.admit(o, s.Work())
}

func (n *Node) keep(o store.RelayedOffer, work int) {
	if n.admit(o, work) {
		n.replay.putRelayed(o)
	}
}

// admit applies the store-and-forward limits to o and reports whether o
// is to be kept; the offer it displaces, if any, is dropped.
func (n *Node) admit(o store.RelayedOffer, work int) bool {
	keep, displaced, ok := n.relay.admit(o.IntentID, o.Category, keptOffer{id: o.ID, work: work, size: len(o.Raw)}, o.Expires)
	if !keep {
		n.log.Debug("store-and-forward is full: offer relayed, not kept", "offer", intent.ID(o.ID).Short(), "intent", intent.ID(o.IntentID).Short(), "work", work)
		return false
	}
	if ok {
		n.log.Debug("store-and-forward: offer with more work displaces one", "offer", intent.ID(o.ID).Short(), "displaced", displaced.Short(), "intent", intent.ID(o.IntentID).Short())
		n.replay.dropRelayed(displaced)
	}
	return true
}

// loadRelayed counts the offers the store keeps, at start, oldest first,
// so that limits lowered since are applied as if the offers came again.
func (n *Node) loadRelayed(kept []store.RelayedOffer) {
	slices.SortStableFunc(kept, func(a, b store.RelayedOffer) int { return a.Kept.Compare(b.Kept) })
	for _, o := range kept {
		work := 0 // a sealed offer's or thread message's
		if m, err := intent.Parse(o.Raw); err == nil {
			if w, ok := m.(interface{ Work() int }); ok {
				work = w.Work()
			}
		}
		keep, displaced, ok := n.relay.admit(o.IntentID, o.Category, keptOffer{id: o.ID, work: work, size: len(o.Raw)}, o.Expires)
		if ok {
			n.replay.dropRelayed(displaced)
		}
		if !keep {
			n.replay.dropRelayed(intent.ID(o.ID))
		}
	}
}
