package node

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
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
	if !isStoredLive(t, n, in.ID) {
		t.Fatal("the relayed intent is not stored")
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

// flushLog is a store that only records the replay index's flushes: when,
// how many live intents, and the oldest one's age then.
type flushLog struct {
	store.Store
	mu      sync.Mutex
	flushes []flushed
}

type flushed struct {
	at      time.Time
	intents int
	oldest  time.Duration
}

func (f *flushLog) Apply(_ context.Context, b store.Batch) error {
	now := time.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	fl := flushed{at: now, intents: len(b.Live)}
	for _, in := range b.Live {
		fl.oldest = max(fl.oldest, now.Sub(in.Received))
	}
	f.flushes = append(f.flushes, fl)
	return nil
}

func (f *flushLog) since(t time.Time) []flushed {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []flushed
	for _, fl := range f.flushes {
		if !fl.at.Before(t) {
			out = append(out, fl)
		}
	}
	return out
}

// TestFlushEvery runs the replay flusher in virtual time: at 100 relayed
// intents a second, then at 5, it flushes every flushEvery (one commit per
// wait, however few entries came), no intent waits in memory longer than
// flushEvery, everything is written in the end, and a full queue
// (flushBatch) is still flushed at once. Every wait is spread by jitter
// (±20%), so the bounds are its longest and shortest.
func TestFlushEvery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		log := &flushLog{}
		r := newReplayIndex(log, slog.New(slog.DiscardHandler))
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			defer close(done)
			r.Serve(ctx)
		}()
		put := func(k int) {
			r.putLive(store.LiveIntent{ID: intent.ID{byte(k), byte(k >> 8), byte(k >> 16)}, Category: "electronics", Received: time.Now()})
		}
		start := time.Now()
		k := 0
		for _, load := range []struct {
			rate int
			span time.Duration
		}{{100, 30 * time.Second}, {5, 30 * time.Second}} {
			for since := time.Now(); time.Since(since) < load.span; k++ {
				put(k)
				time.Sleep(time.Second / time.Duration(load.rate))
			}
		}
		all := log.since(start)
		longest, shortest := flushEvery+flushEvery/jitterSpread, flushEvery-flushEvery/jitterSpread
		if most := int(time.Since(start)/shortest) + 1; len(all) > most || len(all) < int(time.Since(start)/longest) {
			t.Errorf("%d flushes in %s; want one every %s ±%d%%", len(all), time.Since(start), flushEvery, 100/jitterSpread)
		}
		for i, fl := range all {
			if fl.oldest > longest {
				t.Errorf("flush at %s wrote an intent held %s; want at most %s", fl.at.Sub(start), fl.oldest, longest)
			}
			if i > 0 && fl.at.Sub(all[i-1].at) < shortest {
				t.Errorf("flushes at %s and %s; want at least %s apart", all[i-1].at.Sub(start), fl.at.Sub(start), shortest)
			}
		}
		// A flood fills a queue to flushBatch: that is flushed at once,
		// whatever the wait, so the queue holds no more.
		synctest.Wait() // the flusher waits, its timer not due
		flood := time.Now()
		for range flushBatch {
			put(k)
			k++
		}
		synctest.Wait()
		if got := log.since(flood); len(got) == 0 || got[len(got)-1].intents < flushBatch {
			t.Errorf("a queue of %d intents was not flushed at once (flushes since: %v)", flushBatch, got)
		}
		cancel()
		<-done
		written := 0
		for _, fl := range log.since(start) {
			written += fl.intents
		}
		if written != k {
			t.Errorf("%d intents written, %d queued", written, k)
		}
	})
}

// TestFlushingEntriesStayReadable holds a flush's write: while it waits for
// the disk, the tombstone and relayed offer it carries are no longer
// pending and not yet stored, and the readers (the validator's tombstone
// lookup, sync's served sets) must still find them.
func TestFlushingEntriesStayReadable(t *testing.T) {
	bolt, err := store.Open(filepath.Join(t.TempDir(), StoreFile))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bolt.Close() })
	s := newCrashStore(bolt, func(b store.Batch) bool { return len(b.Tombstones) > 0 })
	r := newReplayIndex(s, slog.New(slog.DiscardHandler))
	in, _ := mintIntent(t, "electronics", 0, time.Now())
	tomb := store.Tombstone{IntentID: in.ID, Category: "electronics", Raw: []byte("closure"), IntentRaw: in.Raw, Expires: in.Body.ExpiresAt()}
	offer := store.RelayedOffer{ID: store.ID{1}, IntentID: in.ID, Category: "electronics", Raw: []byte("sealed"), Expires: in.Body.ExpiresAt()}
	r.putTombstone(tomb)
	r.putRelayed(offer)

	done := make(chan struct{})
	go func() { defer close(done); r.flush(context.Background()) }()
	eventually(t, 10*time.Second, "the flush's write is held", func() bool { return s.heldCount() == 1 })
	if got := r.pendingTombstones("electronics"); len(got) != 1 || got[0].IntentID != in.ID {
		t.Errorf("during the flush's write, pending tombstones = %v; want the flushing one", got)
	}
	if got := r.pendingRelayed("electronics"); len(got) != 1 || got[0].ID != offer.ID {
		t.Errorf("during the flush's write, pending relayed offers = %v; want the flushing one", got)
	}
	s.crash()
	<-done
	if got := r.pendingTombstones(""); len(got) != 0 {
		t.Errorf("after the flush, pending tombstones = %v; want none", got)
	}
}

// TestIntentRefusedForRoomComesAgain fills a node's live set: an intent
// refused for want of room is not marked seen, so once a cancel makes
// room, the same intent (by gossip again, or by sync) is taken.
func TestIntentRefusedForRoomComesAgain(t *testing.T) {
	cfg := nodeConfig(t)
	cfg.MaxLiveIntents = 1
	n := startNode(t, cfg)
	first, keys := mintIntent(t, "electronics", 0, time.Now())
	m, err := n.check(t.Context(), "electronics", false, first.Raw)
	if err != nil {
		t.Fatalf("check the first intent: %v", err)
	}
	n.deliver(t.Context(), m)
	second, _ := mintIntent(t, "electronics", 0, time.Now())
	if _, err := n.check(t.Context(), "electronics", false, second.Raw); !errors.Is(err, errLiveSetFull) {
		t.Fatalf("the second intent with the live set full: %v; want errLiveSetFull", err)
	}
	c, err := intent.NewCancel(first, keys, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	m, err = n.check(t.Context(), "electronics", false, c.Raw)
	if err != nil {
		t.Fatalf("check the cancel: %v", err)
	}
	n.deliver(t.Context(), m)
	if _, err := n.check(t.Context(), "electronics", false, second.Raw); err != nil {
		t.Fatalf("the second intent again, with room: %v; want it taken", err)
	}
}
