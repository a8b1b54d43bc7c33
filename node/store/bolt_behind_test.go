package store_test

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/intentcast/intentcast/node/store"
)

// TestBehindRidesTheCheckpoint: a batch Behind took is read at once, costs
// no journal record, and is written by the checkpoint within
// checkpointEvery (four seconds) with no other write; its wait returns
// only then.
func TestBehindRidesTheCheckpoint(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "store.db")
		s := openAt(t, path)
		defer s.Close()
		o := queuedOffer(store.OfferValid)
		wait := s.Behind(t.Context(), store.Batch{Offers: []store.Offer{o}})
		done := make(chan error, 1)
		go func() { done <- wait() }()
		if got, err := s.Offer(t.Context(), o.ID); err != nil || got.Status != store.OfferValid {
			t.Fatalf("offer stored behind, as read: %v, %v", got.Status, err)
		}
		if seqs := journalSeqs(t, journalOf(path)); len(seqs) != 0 {
			t.Errorf("journal records after Behind: %v, want none: Behind costs no record", seqs)
		}
		time.Sleep(time.Second) // virtual
		synctest.Wait()
		select {
		case err := <-done:
			t.Fatalf("wait returned (%v) before any transaction wrote the batch", err)
		default:
		}
		time.Sleep(4 * time.Second)
		synctest.Wait()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatal("the checkpoint did not write the batch within four seconds")
		}
	})
}

// TestBehindFullBringsCheckpointForward: Behind's batches that reach the
// journal's bound (1 MiB) are written at once, not held in memory until
// the checkpoint's time: a peer that floods a node with records it keeps
// does not grow the queue past the bound.
func TestBehindFullBringsCheckpointForward(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := openAt(t, filepath.Join(t.TempDir(), "store.db"))
		defer s.Close()
		var waits []func() error
		for k := range 16 { // 16 × (64 KiB and a record's fields): past 1 MiB with the last
			o := queuedOffer(store.OfferValid)
			o.ID = id(fmt.Sprint("offer ", k))
			o.Raw = bytes.Repeat([]byte{byte(k)}, 64<<10)
			waits = append(waits, s.Behind(t.Context(), store.Batch{Offers: []store.Offer{o}}))
		}
		done := make(chan error, 1)
		go func() {
			var first error
			for _, w := range waits {
				if err := w(); err != nil && first == nil {
					first = err
				}
			}
			done <- first
		}()
		synctest.Wait() // no time passes: only the kick can write them
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatal("over 1 MiB stored behind waits for the checkpoint's time, want it written at once")
		}
	})
}

// TestBehindKeepsOrder: a batch stored behind and a later one through the
// journal or a transaction are written in the order they were queued,
// whichever round takes them; and Close writes what waits.
func TestBehindKeepsOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	s := openAt(t, path)
	ctx := t.Context()
	o := queuedOffer(store.OfferValid)
	behind := s.Behind(ctx, store.Batch{Offers: []store.Offer{o}})
	o.Status = store.OfferAccepted
	if err := s.Queue(ctx, store.Batch{Offers: []store.Offer{o}})(); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(ctx, store.Batch{}); err != nil { // writes both
		t.Fatal(err)
	}
	if err := behind(); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Offer(ctx, o.ID); err != nil || got.Status != store.OfferAccepted {
		t.Errorf("offer after the round: %v, %v; want accepted (the later batch last)", got.Status, err)
	}
	other := queuedOffer(store.OfferValid)
	other.ID = id("other offer")
	last := s.Behind(ctx, store.Batch{Offers: []store.Offer{other}})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := last(); err != nil {
		t.Fatal(err)
	}
	if !treeHolds(t, path, other.ID) {
		t.Error("the store file lacks the batch stored behind before Close")
	}
}
