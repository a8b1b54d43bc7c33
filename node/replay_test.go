package node

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node/store"
)

// TestRelayedIntentIsOneRecord checks that an intent a node relays is
// stored once (its live record, no replay entry beside it), and that the
// live record alone still refuses a replay of the intent after a restart.
func TestRelayedIntentIsOneRecord(t *testing.T) {
	cfg := nodeConfig(t)
	n := startNode(t, cfg)
	in, keys := mintIntent(t, "electronics", 0, time.Now())
	m, err := n.check(t.Context(), "electronics", false, in.Raw)
	if err != nil {
		t.Fatalf("check intent: %v", err)
	}
	n.deliver(t.Context(), m)
	c, err := intent.NewCancel(in, keys, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.check(t.Context(), "electronics", false, c.Raw); err != nil {
		t.Fatalf("check cancel: %v", err)
	}
	n.replay.flush(t.Context())
	if _, err := n.store.LiveIntent(t.Context(), in.ID); err != nil {
		t.Fatalf("the relayed intent is not stored: %v", err)
	}
	if seen, err := n.store.Seen(t.Context(), in.ID); err != nil || seen {
		t.Fatalf("the relayed intent has a replay entry beside its live record (seen %v, %v)", seen, err)
	}
	if seen, err := n.store.Seen(t.Context(), c.ID); err != nil || !seen {
		t.Fatalf("the relayed cancel has no replay entry (seen %v, %v)", seen, err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	again := startNode(t, cfg)
	if _, err := again.check(t.Context(), "electronics", false, in.Raw); !errors.Is(err, errReplay) {
		t.Fatalf("the intent replayed after a restart: %v; want errReplay", err)
	}
	if _, err := again.check(t.Context(), "electronics", false, c.Raw); !errors.Is(err, errReplay) {
		t.Fatalf("the cancel replayed after a restart: %v; want errReplay", err)
	}
}

// TestValidatorReadsOnlyMemory closes the node's store under it: the
// validator still accepts a fresh intent, refuses its replay and refuses
// an intent whose tombstone was loaded at start.
func TestValidatorReadsOnlyMemory(t *testing.T) {
	cfg := nodeConfig(t)
	s, err := store.Open(filepath.Join(t.TempDir(), StoreFile))
	if err != nil {
		t.Fatal(err)
	}
	cancelled, keys := mintIntent(t, "electronics", 0, time.Now())
	c, err := intent.NewCancel(cancelled, keys, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutTombstone(t.Context(), store.Tombstone{IntentID: cancelled.ID, Category: "electronics",
		Raw: c.Raw, IntentRaw: cancelled.Raw, Expires: cancelled.Body.ExpiresAt()}); err != nil {
		t.Fatal(err)
	}
	cfg.Store = s
	n := startNode(t, cfg)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	in, _ := mintIntent(t, "electronics", 1, time.Now())
	if _, err := n.check(t.Context(), "electronics", false, in.Raw); err != nil {
		t.Fatalf("a fresh intent with the store closed: %v", err)
	}
	if _, err := n.check(t.Context(), "electronics", false, in.Raw); !errors.Is(err, errReplay) {
		t.Fatalf("its replay with the store closed: %v; want errReplay", err)
	}
	if _, err := n.check(t.Context(), "electronics", false, cancelled.Raw); !errors.Is(err, errClosed) {
		t.Fatalf("a tombstoned intent with the store closed: %v; want errClosed", err)
	}
}
