package node

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/intentcast/intentcast/crypto"
	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node/store"
)

// ownSet is the in-memory copy of this node's own intents that can still
// matter on the network (until expiry plus skew): their parsed intents and
// keys, their state and their offer counts. Every delivered intent and
// offer asks "is it ours?", and every offer to an own intent is opened
// with its keys: that is answered from memory. The store holds the durable
// copy, written before the set changes; the set is rebuilt from it at
// start, and an own intent pruned from memory is still read from the store.
type ownSet struct {
	mu      sync.Mutex
	intents map[intent.ID]*ownIntent
}

// ownIntent is one own intent: what the store holds, parsed, and the
// counts of the offers received for it.
type ownIntent struct {
	rec             store.OwnIntent
	in              *intent.SignedIntent
	keys            intent.Keys
	offers, refused int
}

func newOwnSet() *ownSet { return &ownSet{intents: make(map[intent.ID]*ownIntent)} }

// parseOwn rebuilds an own intent and its private keys from its record.
func parseOwn(rec store.OwnIntent) (*ownIntent, error) {
	in, err := intent.ParseIntent(rec.Raw)
	if err != nil {
		return nil, fmt.Errorf("stored intent %x: %w", rec.ID[:6], err)
	}
	sk, err := crypto.SigningKeyFromSeed(rec.SigningSeed)
	if err != nil {
		return nil, fmt.Errorf("stored intent %s: signing key: %w", in.ID.Short(), err)
	}
	rk, err := crypto.ReplyKeyFromBytes(crypto.Suite(rec.ReplySuite), rec.ReplyKey)
	if err != nil {
		return nil, fmt.Errorf("stored intent %s: reply key: %w", in.ID.Short(), err)
	}
	return &ownIntent{rec: rec, in: in, keys: intent.Keys{Signing: sk, Reply: rk}}, nil
}

// record is the own intent as the node shows it.
func (o *ownIntent) record() IntentRecord {
	return IntentRecord{
		Intent: o.in, Own: true, State: o.rec.State, AcceptedOffer: o.rec.AcceptedOffer,
		Offers: o.offers, Refused: o.refused,
	}
}

// count adds one received offer of status s.
func (o *ownIntent) count(s store.OfferStatus) {
	if s == store.OfferRefused {
		o.refused++
	} else {
		o.offers++
	}
}

// get returns a copy of the own intent with that ID, if it is in memory.
// A copy: callers change it and put it back once the store has it.
func (s *ownSet) get(id intent.ID) (ownIntent, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.intents[id]
	if !ok {
		return ownIntent{}, false
	}
	return *o, true
}

// ownRaw is the wire form of the own intent with that ID, nil if it is
// not one in memory.
func (n *Node) ownRaw(id intent.ID) []byte {
	if o, ok := n.own.get(id); ok {
		return o.in.Raw
	}
	return nil
}

func (s *ownSet) has(id intent.ID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.intents[id]
	return ok
}

// put inserts or replaces an own intent.
func (s *ownSet) put(o ownIntent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.intents[o.rec.ID] = &o
}

// update writes o's record (its state) back to memory, keeping the counts
// there: offers may have been counted since o was read. An intent no
// longer in memory stays out.
func (s *ownSet) update(o ownIntent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.intents[o.rec.ID]; ok {
		cur.rec = o.rec
	}
}

// countOffer counts a received offer for an own intent and returns the
// intent's record after it; false if the intent is not in memory.
func (s *ownSet) countOffer(id intent.ID, status store.OfferStatus) (IntentRecord, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.intents[id]
	if !ok {
		return IntentRecord{}, false
	}
	o.count(status)
	return o.record(), true
}

// prune drops the intents expired at now (allowing skew).
func (s *ownSet) prune(now time.Time, skew time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	maps.DeleteFunc(s.intents, func(_ intent.ID, o *ownIntent) bool {
		return now.After(o.rec.Expires.Add(skew))
	})
}

// loadOwn rebuilds the own set from the store at start.
func (n *Node) loadOwn(ctx context.Context, owns []store.OwnIntent) error {
	received, err := n.store.OffersByDirection(ctx, store.Received)
	if err != nil {
		return fmt.Errorf("node: load received offers: %w", err)
	}
	now, skew := n.now(), n.cfg.Policy.Skew()
	loaded := make(map[intent.ID]*ownIntent)
	for _, rec := range owns {
		if now.After(rec.Expires.Add(skew)) {
			continue
		}
		o, err := parseOwn(rec)
		if err != nil {
			n.log.Warn("store holds an own intent that no longer parses; skipping", "err", err)
			continue
		}
		loaded[rec.ID] = o
	}
	for _, off := range received {
		if o, ok := loaded[off.IntentID]; ok {
			o.count(off.Status)
		}
	}
	n.own.mu.Lock()
	defer n.own.mu.Unlock()
	maps.Copy(n.own.intents, loaded)
	return nil
}

// ownIntent returns one of this node's own intents: from memory, or else
// from the store (one that expired a while ago). It wraps ErrNotOwn if the
// node has none with that ID.
func (n *Node) ownIntent(ctx context.Context, id intent.ID) (ownIntent, error) {
	if o, ok := n.own.get(id); ok {
		return o, nil
	}
	rec, err := n.store.OwnIntent(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return ownIntent{}, fmt.Errorf("intent %s: %w", id.Short(), ErrNotOwn)
	}
	if err != nil {
		return ownIntent{}, err
	}
	o, err := parseOwn(rec)
	if err != nil {
		return ownIntent{}, err
	}
	offers, err := n.store.Offers(ctx, id)
	if err != nil {
		return ownIntent{}, fmt.Errorf("offers of intent %s: %w", id.Short(), err)
	}
	for _, off := range offers {
		if off.Direction == store.Received {
			o.count(off.Status)
		}
	}
	return *o, nil
}

// isOwn reports whether id is one of this node's intents that can still be
// on the network: those come back by gossip, but they are not for this
// node's vendor side.
func (n *Node) isOwn(id intent.ID) bool { return n.own.has(id) }
