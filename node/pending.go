package node

import (
	"sync"
	"time"

	"github.com/intentcast/intentcast/intent"
)

// pendingCancels holds cancels that arrived before their intent. Gossipsub
// validates messages concurrently and along different paths, so a cancel
// can overtake the intent it withdraws; without this, a relay would ignore
// the cancel, then accept and keep forwarding the cancelled intent until
// the next sync. Bounded, and each entry lives only as long as the skew
// window: a cancel is small, but a flood of them for unknown intents must
// not grow memory.
type pendingCancels struct {
	mu  sync.Mutex
	m   map[intent.ID]pendingCancel
	max int
}

type pendingCancel struct {
	c     *intent.SignedCancel
	until time.Time
}

// pendingCancelsMax bounds the set: at 512 bytes a cancel, 2 MiB.
const pendingCancelsMax = 4096

func newPendingCancels(max int) *pendingCancels {
	return &pendingCancels{m: make(map[intent.ID]pendingCancel), max: max}
}

// put keeps c until `until`, unless the set is full.
func (p *pendingCancels) put(c *intent.SignedCancel, until time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.m) >= p.max {
		return
	}
	p.m[c.IntentID] = pendingCancel{c, until}
}

// take removes and returns the cancel waiting for intent id, if any.
func (p *pendingCancels) take(id intent.ID, now time.Time) *intent.SignedCancel {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.m[id]
	if !ok {
		return nil
	}
	delete(p.m, id)
	if now.After(e.until) {
		return nil
	}
	return e.c
}

// prune drops entries whose time has passed.
func (p *pendingCancels) prune(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, e := range p.m {
		if now.After(e.until) {
			delete(p.m, id)
		}
	}
}
