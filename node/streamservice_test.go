package node

import (
	"errors"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/test"
)

// slotPeers are distinct peer IDs; admit needs no connection.
func slotPeers(t *testing.T, k int) []peer.ID {
	out := make([]peer.ID, k)
	for i := range out {
		out[i] = test.RandPeerIDFatal(t)
	}
	return out
}

// cancelled records whether a slot's cancel was called.
type cancelled struct{ called bool }

func (c *cancelled) cancel() { c.called = true }

// TestStreamSlotsBoundAndRefuse: without replaceOwn and preemptIdle (the
// stem's limits), a stream over the per-peer or the total bound is
// refused, and done makes room again.
func TestStreamSlotsBoundAndRefuse(t *testing.T) {
	s := newStreamService("test", nil, streamLimits{perPeer: 2, total: 3, banFor: time.Hour, maxTracked: 16}, testConfig(t).Logger)
	p := slotPeers(t, 3)
	admit := func(q peer.ID) *streamSlot {
		sl, preempted := s.admit(q, nil)
		if preempted {
			t.Fatal("a slot was preempted without preemptIdle")
		}
		return sl
	}
	a1, a2 := admit(p[0]), admit(p[0])
	if a1 == nil || a2 == nil {
		t.Fatal("a peer's first two streams were refused")
	}
	if admit(p[0]) != nil {
		t.Fatal("a third stream of one peer was admitted over perPeer 2")
	}
	b1 := admit(p[1])
	if b1 == nil {
		t.Fatal("another peer's stream was refused")
	}
	if admit(p[2]) != nil {
		t.Fatal("a stream was admitted over the total bound")
	}
	s.done(a1)
	s.done(a1) // a second done is a no-op
	if got := s.activeOf(p[0]); got != 1 {
		t.Fatalf("activeOf after done = %d, want 1", got)
	}
	if admit(p[2]) == nil {
		t.Fatal("a stream was refused after done made room")
	}
	s.ban(p[1], errors.New("test"))
	s.done(b1)
	if admit(p[1]) != nil {
		t.Fatal("a banned peer's stream was admitted")
	}
}

// TestStreamSlotsReplaceAndPreempt: with sync's limits, a peer's newer
// stream takes its older one's slot, and at the total bound a newcomer
// takes the slot of a stream idle for preemptIdle, never of a busy one;
// a refused newcomer takes nothing.
func TestStreamSlotsReplaceAndPreempt(t *testing.T) {
	const idle = time.Minute
	s := newStreamService("test", nil, streamLimits{perPeer: 1, replaceOwn: true, total: 2, preemptIdle: idle, rate: 1e-9, burst: 2, maxTracked: 16}, testConfig(t).Logger)
	p := slotPeers(t, 3)
	var c [5]cancelled
	old, _ := s.admit(p[0], c[0].cancel)
	newer, preempted := s.admit(p[0], c[1].cancel)
	if old == nil || newer == nil || preempted {
		t.Fatalf("a peer's newer stream: slot %v, preempted %v; want admitted, no preemption", newer, preempted)
	}
	if !c[0].called || c[1].called {
		t.Fatalf("older cancelled %v, newer cancelled %v: want the older only", c[0].called, c[1].called)
	}
	s.done(old) // the older handler ends late: the newer keeps its slot
	if got := s.activeOf(p[0]); got != 1 {
		t.Fatalf("activeOf = %d after the replaced stream ended, want 1", got)
	}
	busy, _ := s.admit(p[1], c[2].cancel)
	if busy == nil {
		t.Fatal("a second peer was refused below the total bound")
	}
	if sl, _ := s.admit(p[2], c[3].cancel); sl != nil {
		t.Fatal("a newcomer took the slot of a stream that is not idle")
	}
	if c[1].called || c[2].called {
		t.Fatal("a refused newcomer cancelled a stream")
	}
	newer.active.Store(time.Now().Add(-2 * idle).UnixNano())
	sl, preempted := s.admit(p[2], c[3].cancel)
	if sl == nil || !preempted || !c[1].called || c[2].called {
		t.Fatalf("newcomer at the bound: slot %v, preempted %v, idle cancelled %v, busy cancelled %v; want the idle one's slot",
			sl, preempted, c[1].called, c[2].called)
	}
	if got := s.handlingAll(); got != 2 {
		t.Fatalf("handlingAll = %d, want 2", got)
	}
	// A peer over its rate (p[1]: burst 2) is refused, and its stream
	// being handled keeps its slot.
	b2, _ := s.admit(p[1], c[4].cancel)
	if b2 == nil || !c[2].called {
		t.Fatal("a peer's second stream did not replace its first")
	}
	if sl, _ := s.admit(p[1], nil); sl != nil || c[4].called {
		t.Fatal("a stream over its peer's rate was admitted, or cancelled the peer's older one")
	}
}
