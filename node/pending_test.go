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
	tomb, err := n.store.Tombstone(t.Context(), in.ID)
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
