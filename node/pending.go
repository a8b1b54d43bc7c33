package node

import (
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/intentcast/intentcast/intent"
)

// pendingCancels holds cancels that arrived before their intent. Gossipsub
// validates messages concurrently and along different paths, so a cancel
// can overtake the intent it withdraws; without this, a relay would ignore
// the cancel, then accept and keep forwarding the cancelled intent until
// the next sync.
//
// Nothing about a cancel can be checked before its intent arrives, so the
// set is built so that junk cannot push real cancels out:
//   - entries are kept per (intent, sending peer): a peer replaces only its
//     own cancel for an intent, never another peer's, so a bogus cancel
//     cannot displace a genuine early one, however many are sent;
//   - each peer holds at most pendingPerPeer entries;
//   - when the set is full, the peer holding the most entries loses its
//     oldest, so filling it takes many peers each holding as few entries as
//     the honest ones (whose early cancels are rare and live milliseconds);
//   - an entry lives only as long as the skew window.
type pendingCancels struct {
	mu       sync.Mutex
	byIntent map[intent.ID][]pendingCancel
	byPeer   map[peer.ID][]intent.ID // oldest first
	len      int
	max      int
}

type pendingCancel struct {
	c     *intent.SignedCancel
	from  peer.ID
	until time.Time
}

const (
	// pendingCancelsMax bounds the set: at 512 bytes a cancel, 2 MiB.
	pendingCancelsMax = 4096
	// pendingPerPeer bounds one peer's entries: an honest peer forwards a
	// cancel ahead of its intent only when gossip reorders the two.
	pendingPerPeer = 16
)

func newPendingCancels(max int) *pendingCancels {
	return &pendingCancels{byIntent: make(map[intent.ID][]pendingCancel), byPeer: make(map[peer.ID][]intent.ID), max: max}
}

// put keeps c, sent by from, until `until`; it reports whether it was kept.
func (p *pendingCancels) put(c *intent.SignedCancel, from peer.ID, until time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	list := p.byIntent[c.IntentID]
	if i := slices.IndexFunc(list, func(e pendingCancel) bool { return e.from == from }); i >= 0 {
		list[i] = pendingCancel{c, from, until}
		return true
	}
	if len(p.byPeer[from]) >= pendingPerPeer {
		return false
	}
	if p.len >= p.max && !p.evictFromLargest(len(p.byPeer[from])) {
		return false
	}
	p.byIntent[c.IntentID] = append(list, pendingCancel{c, from, until})
	p.byPeer[from] = append(p.byPeer[from], c.IntentID)
	p.len++
	return true
}

// evictFromLargest drops the oldest entry of the peer holding the most, if
// it holds more than mine; it reports whether it made room.
func (p *pendingCancels) evictFromLargest(mine int) bool {
	var top peer.ID
	most := 0
	for pid, ids := range p.byPeer {
		if len(ids) > most {
			top, most = pid, len(ids)
		}
	}
	if most <= mine+1 {
		return false
	}
	p.removeLocked(p.byPeer[top][0], top)
	return true
}

// removeLocked drops the entry of (id, from).
func (p *pendingCancels) removeLocked(id intent.ID, from peer.ID) {
	list := slices.DeleteFunc(p.byIntent[id], func(e pendingCancel) bool { return e.from == from })
	if len(list) == 0 {
		delete(p.byIntent, id)
	} else {
		p.byIntent[id] = list
	}
	ids := slices.DeleteFunc(p.byPeer[from], func(x intent.ID) bool { return x == id })
	if len(ids) == 0 {
		delete(p.byPeer, from)
	} else {
		p.byPeer[from] = ids
	}
	p.len--
}

// take removes and returns the cancels waiting for intent id that are
// still in time, oldest first.
func (p *pendingCancels) take(id intent.ID, now time.Time) []pendingCancel {
	p.mu.Lock()
	defer p.mu.Unlock()
	list := slices.Clone(p.byIntent[id])
	for _, e := range list {
		p.removeLocked(id, e.from)
	}
	return slices.DeleteFunc(list, func(e pendingCancel) bool { return now.After(e.until) })
}

// prune drops entries whose time has passed.
func (p *pendingCancels) prune(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, list := range p.byIntent {
		for _, e := range slices.Clone(list) {
			if now.After(e.until) {
				p.removeLocked(id, e.from)
			}
		}
	}
}

// size returns how many cancels are held.
func (p *pendingCancels) size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.len
}
