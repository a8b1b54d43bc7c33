package store

import (
	"crypto/sha256"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TestCheckpointRidesTheFlush: a batch queued between two of the node's
// flushes (Apply, every four seconds) is written by the second flush,
// not by a transaction of the checkpoint's own when its tick falls
// between them; the flush's transaction also empties the journal. A
// batch no transaction takes is still written within checkpointEvery.
func TestCheckpointRidesTheFlush(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, err := Open(filepath.Join(t.TempDir(), "store.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		ctx := t.Context()
		commits := func() int {
			var id int
			if err := s.db.View(func(tx *bolt.Tx) error { id = tx.ID(); return nil }); err != nil {
				t.Fatal(err)
			}
			return id
		}
		intentID := sha256.Sum256([]byte("intent"))
		offer := func(name string) Batch {
			return Batch{Offers: []Offer{testOffer(name, intentID, time.Now())}}
		}
		start := commits()

		time.Sleep(500 * time.Millisecond) // virtual, as every sleep here
		if err := s.Apply(ctx, offer("first flush")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * time.Second) // 3.5 s after Open
		if err := s.Queue(ctx, offer("published"))(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second) // 4.5 s: the checkpoint woke at 4 s
		synctest.Wait()
		if got := commits() - start; got != 1 {
			t.Fatalf("%d transactions before the second flush, want 1 (the first flush): the checkpoint wrote a batch a flush would take", got)
		}
		if err := s.Apply(ctx, offer("second flush")); err != nil {
			t.Fatal(err)
		}
		s.journal.mu.Lock()
		size := s.journal.size
		s.journal.mu.Unlock()
		if size != 0 {
			t.Errorf("journal holds %d bytes after the flush wrote its one record into the tree, want 0", size)
		}
		if err := s.db.View(func(tx *bolt.Tx) error {
			_, err := offers.get(tx, testOffer("published", intentID, time.Now()).ID)
			return err
		}); err != nil {
			t.Fatalf("the published batch is not in the tree after the second flush: %v", err)
		}

		time.Sleep(10 * time.Second)
		synctest.Wait()
		if got := commits() - start; got != 2 {
			t.Fatalf("%d transactions with nothing queued, want the two flushes'", got)
		}
		if err := s.Queue(ctx, offer("alone"))(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(checkpointEvery)
		synctest.Wait()
		if got := commits() - start; got != 3 {
			t.Fatalf("%d transactions %s after a batch no flush took, want 3: the checkpoint's own for it", got, checkpointEvery)
		}
	})
}
