package storetest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/intentcast/intentcast/node/store"
)

// testMarkSeen checks MarkSeen's answers and that a repeat with a later
// until extends the entry, while one with an earlier until does not shorten
// it.
func testMarkSeen(t *testing.T, s store.Store) {
	ctx := t.Context()
	id := idOf("message")
	steps := []struct {
		until time.Time
		fresh bool
	}{
		{t0, true},
		{t0, false},
		{t0.Add(time.Hour), false},
		{t0.Add(-time.Hour), false},
	}
	for i, step := range steps {
		fresh, err := s.MarkSeen(ctx, id, step.until)
		must(t, err)
		if fresh != step.fresh {
			t.Errorf("step %d: MarkSeen(until %s after t0) fresh = %v, want %v", i, step.until.Sub(t0), fresh, step.fresh)
		}
	}
	if seen, err := s.Seen(ctx, id); err != nil || !seen {
		t.Errorf("Seen = %v, %v; want true, nil", seen, err)
	}
	if seen, err := s.Seen(ctx, idOf("other")); err != nil || seen {
		t.Errorf("Seen of another ID = %v, %v; want false, nil", seen, err)
	}
	// The entry now lasts until t0+1h: a prune just before keeps it.
	n, err := s.Prune(ctx, t0.Add(time.Hour))
	must(t, err)
	if seen, err := s.Seen(ctx, id); n != 0 || err != nil || !seen {
		t.Errorf("after Prune(until): pruned %d, Seen = %v, %v; want 0, true, nil", n, seen, err)
	}
	n, err = s.Prune(ctx, t0.Add(time.Hour+time.Nanosecond))
	must(t, err)
	if seen, err := s.Seen(ctx, id); n != 1 || err != nil || seen {
		t.Errorf("after Prune(until+1ns): pruned %d, Seen = %v, %v; want 1, false, nil", n, seen, err)
	}
	if fresh, err := s.MarkSeen(ctx, id, t0); err != nil || !fresh {
		t.Errorf("MarkSeen after the entry was pruned = %v, %v; want true, nil", fresh, err)
	}
}

// testMarkSeenConcurrent races many goroutines on a few IDs: for each ID
// exactly one call must report it fresh, or a replayed message could pass
// the validator twice.
func testMarkSeenConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	const ids, callers = 4, 32
	var fresh [ids]atomic.Int32
	var wg sync.WaitGroup
	for i := range ids {
		id := idOf(fmt.Sprint("raced-", i))
		for j := range callers {
			wg.Go(func() {
				// Each caller's until differs, so the extend path races the
				// insert path too.
				ok, err := s.MarkSeen(ctx, id, t0.Add(time.Duration(j)*time.Minute))
				if err != nil {
					t.Error(err)
				}
				if ok {
					fresh[i].Add(1)
				}
			})
		}
	}
	wg.Wait()
	for i := range ids {
		if n := fresh[i].Load(); n != 1 {
			t.Errorf("ID %d: %d of %d concurrent MarkSeen calls were fresh, want exactly 1", i, n, callers)
		}
	}
}
