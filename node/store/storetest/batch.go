package storetest

import (
	"testing"
	"time"

	"github.com/intentcast/intentcast/node/store"
)

// testApply checks that a batch behaves like the single calls it replaces:
// live intents land unless tombstoned, replay entries are seen, and a
// repeat keeps the later until.
func testApply(t *testing.T, s store.Store) {
	ctx := t.Context()
	cancelled := idOf("cancelled in batch")
	must(t, s.PutTombstone(ctx, store.Tombstone{IntentID: cancelled, Category: "home", Raw: []byte("c"), Expires: t0.Add(time.Hour)}))
	b := store.Batch{
		Live: []store.LiveIntent{
			{ID: idOf("batched"), Category: "home", Raw: []byte("i"), Expires: t0.Add(time.Hour), Received: t0},
			{ID: cancelled, Category: "home", Raw: []byte("i2"), Expires: t0.Add(time.Hour), Received: t0},
		},
		Seen: []store.SeenEntry{{ID: idOf("seen in batch"), Until: t0.Add(time.Hour)}},
	}
	must(t, s.Apply(ctx, b))
	if _, err := s.LiveIntent(ctx, idOf("batched")); err != nil {
		t.Errorf("batched live intent: %v", err)
	}
	if _, err := s.LiveIntent(ctx, cancelled); err == nil {
		t.Errorf("a tombstoned intent came back through a batch")
	}
	if fresh, err := s.MarkSeen(ctx, idOf("seen in batch"), t0); err != nil || fresh {
		t.Errorf("MarkSeen after Apply = %v, %v; want false, nil", fresh, err)
	}
	// A batch with an earlier until must not shorten the entry.
	must(t, s.Apply(ctx, store.Batch{Seen: []store.SeenEntry{{ID: idOf("seen in batch"), Until: t0}}}))
	if _, err := s.Prune(ctx, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if seen, err := s.Seen(ctx, idOf("seen in batch")); err != nil || !seen {
		t.Errorf("entry shortened by a batch with an earlier until: Seen = %v, %v", seen, err)
	}
}
