package node

import (
	"bytes"
	"errors"
	"testing"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"

	"github.com/intentcast/intentcast/intent"
)

// TestCancelOvertakesIntent feeds a node a cancel before its intent, as
// concurrent validation on different gossip paths can: the intent must not
// become live, the tombstone must be kept, and neither is penalised.
func TestCancelOvertakesIntent(t *testing.T) {
	n := startNode(t, nodeConfig(t))
	now := time.Now()
	draft := laptopDraft(now)
	draft.Work = testPolicy.MinWork
	in, keys, err := intent.NewIntent(t.Context(), draft, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := intent.NewCancel(in, keys, now)
	if err != nil {
		t.Fatal(err)
	}
	_, err = n.check(t.Context(), "electronics", false, c.Raw)
	if !errors.Is(err, errUnknown) || verdict(err) != pubsub.ValidationIgnore {
		t.Fatalf("cancel before its intent: %v, want errUnknown (ignore)", err)
	}
	_, err = n.check(t.Context(), "electronics", false, in.Raw)
	if !errors.Is(err, errClosed) || verdict(err) != pubsub.ValidationIgnore {
		t.Fatalf("intent after its cancel: %v, want errClosed (ignore)", err)
	}
	if isLive(n, in.ID) {
		t.Fatal("a cancelled intent became live")
	}
	tomb, err := n.tombstone(t.Context(), in.ID)
	if err != nil || !bytes.Equal(tomb.Raw, c.Raw) || !bytes.Equal(tomb.IntentRaw, in.Raw) {
		t.Fatalf("tombstone: %+v, %v", tomb, err)
	}
	// A cancel that does not match (signed by another key) is not applied.
	other, _, _ := intent.NewIntent(t.Context(), draft, nil)
	forged, _ := intent.NewCancel(other, keys, now) // names other, signed by in's key
	if _, err := n.check(t.Context(), "electronics", false, forged.Raw); !errors.Is(err, errUnknown) {
		t.Fatalf("forged cancel: %v", err)
	}
	if _, err := n.check(t.Context(), "electronics", false, other.Raw); err != nil {
		t.Fatalf("intent with a forged pending cancel must pass: %v", err)
	}
}

// TestPendingCancelsBounds: a peer replaces only its own cancel of an
// intent, holds at most pendingPerPeer, and a full set makes room for a
// peer holding few by dropping the oldest of the peer holding most.
func TestPendingCancelsBounds(t *testing.T) {
	now := time.Now()
	cancelOf := func(k int) *intent.SignedCancel {
		var id intent.ID
		id[0], id[1] = byte(k), byte(k>>8)
		return &intent.SignedCancel{IntentID: id, Raw: []byte{byte(k)}}
	}
	p := newPendingCancels(pendingPerPeer + 1)
	genuine := cancelOf(0)
	if !p.put(genuine, "honest", now.Add(time.Minute)) {
		t.Fatal("the first cancel was refused")
	}
	for k := range 3 * pendingPerPeer {
		p.put(&intent.SignedCancel{IntentID: genuine.IntentID, Raw: []byte("bogus")}, "attacker", now.Add(time.Minute))
		p.put(cancelOf(k+1), "attacker", now.Add(time.Minute))
	}
	if p.size() != pendingPerPeer+1 || len(p.byPeer["attacker"]) != pendingPerPeer {
		t.Fatalf("%d held, %d of the attacker's; want %d and %d", p.size(), len(p.byPeer["attacker"]), pendingPerPeer+1, pendingPerPeer)
	}
	// Full: a third peer's cancel pushes out the attacker's oldest.
	if !p.put(cancelOf(999), "other", now.Add(time.Minute)) || len(p.byPeer["attacker"]) != pendingPerPeer-1 {
		t.Fatal("a full set did not make room from the peer holding most")
	}
	got := p.take(genuine.IntentID, now)
	if len(got) == 0 || !bytes.Equal(got[0].c.Raw, genuine.Raw) {
		t.Fatalf("the genuine cancel was displaced: %v", got)
	}
	p.prune(now.Add(2 * time.Minute))
	if p.size() != 0 || len(p.byPeer) != 0 || len(p.byIntent) != 0 {
		t.Fatalf("prune left %d entries", p.size())
	}
}
