package store_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/intentcast/intentcast/node/store"
)

// journalOf is the journal's file of the store at path.
func journalOf(path string) string { return path + "-journal" }

func queuedOffer(status store.OfferStatus) store.Offer {
	return store.Offer{ID: id("offer"), IntentID: id("intent"), Direction: store.Received, Status: status,
		Raw: []byte("sealed"), Received: time.Unix(1_700_000_000, 0).UTC()}
}

// treeHolds reports whether the store file itself (not its journal) holds
// the offer with that ID.
func treeHolds(t *testing.T, path string, offerID store.ID) bool {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	held := false
	if err := db.View(func(tx *bolt.Tx) error {
		held = tx.Bucket([]byte("offer")).Get(offerID[:]) != nil
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return held
}

// openAt opens the store at path, failing the test if it cannot.
func openAt(t *testing.T, path string) *store.Bolt {
	t.Helper()
	s, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// openQueued opens a store at path and queues a valid offer in it.
func openQueued(t *testing.T, path string) (*store.Bolt, store.Offer) {
	t.Helper()
	s := openAt(t, path)
	o := queuedOffer(store.OfferValid)
	if err := s.Queue(t.Context(), store.Batch{Offers: []store.Offer{o}})(); err != nil {
		t.Fatal(err)
	}
	return s, o
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestQueueDurableByJournal: a batch Queue acknowledged is in the journal
// until the checkpoint writes it into the tree and empties the journal,
// within checkpointEvery (four seconds), without any other write.
func TestQueueDurableByJournal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "store.db")
		s := openAt(t, path)
		defer s.Close()
		o := queuedOffer(store.OfferValid)
		if err := s.Queue(t.Context(), store.Batch{Offers: []store.Offer{o}})(); err != nil {
			t.Fatal(err)
		}
		if fileSize(t, journalOf(path)) == 0 {
			t.Fatal("Queue acknowledged a batch that is not in the journal")
		}
		if got, err := s.Offer(t.Context(), o.ID); err != nil || got.Status != store.OfferValid {
			t.Fatalf("queued offer as read: %v, %v", got.Status, err)
		}
		time.Sleep(10 * time.Second) // virtual: more than two checkpoints' time
		synctest.Wait()
		if n := fileSize(t, journalOf(path)); n != 0 {
			t.Errorf("journal holds %d bytes after the checkpoint, want 0", n)
		}
	})
}

// TestCloseWritesJournalIntoTree: Close writes what Queue took into the
// store file and empties the journal, so the file alone (an older build,
// say) holds it.
func TestCloseWritesJournalIntoTree(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	s, o := openQueued(t, path)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n := fileSize(t, journalOf(path)); n != 0 {
		t.Errorf("journal holds %d bytes after Close, want 0", n)
	}
	if fi, err := os.Stat(journalOf(path)); err != nil {
		t.Fatal(err)
	} else if fi.Mode().Perm() != 0o600 {
		t.Errorf("journal mode %v, want 0600: it holds own intents' private keys", fi.Mode().Perm())
	}
	if !treeHolds(t, path, o.ID) {
		t.Error("the store file lacks the queued offer after Close")
	}
}

// TestJournalReplaySkipsWhatTreeHolds: a journal left over from a crash
// that came after the tree took its records (the truncation was lost)
// must not put back an older state: here a queued offer, valid, that a
// later Apply accepted.
func TestJournalReplaySkipsWhatTreeHolds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	s, o := openQueued(t, path)
	stale, err := os.ReadFile(journalOf(path))
	if err != nil || len(stale) == 0 {
		t.Fatalf("journal after Queue: %d bytes, %v", len(stale), err)
	}
	o.Status = store.OfferAccepted
	if err := s.Apply(t.Context(), store.Batch{Offers: []store.Offer{o}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(journalOf(path), stale, 0o600); err != nil { // the lost truncation
		t.Fatal(err)
	}
	s, err = store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Offer(t.Context(), o.ID)
	if err != nil || got.Status != store.OfferAccepted {
		t.Errorf("offer after the replay: %s, %v; want accepted (the journal's valid is older)", got.Status, err)
	}
}

// TestJournalTornTail: a crash during an append leaves a torn last record,
// never acknowledged: Open replays the records before it and drops it.
func TestJournalTornTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	s, o := openQueued(t, path)
	whole, err := os.ReadFile(journalOf(path))
	if err != nil {
		t.Fatal(err)
	}
	second := queuedOffer(store.OfferValid)
	second.ID = id("second offer")
	if err := s.Queue(t.Context(), store.Batch{Offers: []store.Offer{second}})(); err != nil {
		t.Fatal(err)
	}
	both, err := os.ReadFile(journalOf(path))
	if err != nil || len(both) <= len(whole) {
		t.Fatalf("journal after two Queues: %d bytes (%d after one), %v", len(both), len(whole), err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// A fresh file without the two offers, and the journal as a crash in
	// the second append leaves it.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	torn := both[:len(whole)+(len(both)-len(whole))/2]
	if err := os.WriteFile(journalOf(path), torn, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err = store.Open(path)
	if err != nil {
		t.Fatalf("open with a torn journal: %v", err)
	}
	defer s.Close()
	if _, err := s.Offer(t.Context(), o.ID); err != nil {
		t.Errorf("the whole record was not replayed: %v", err)
	}
	if _, err := s.Offer(t.Context(), second.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the torn record: %v, want ErrNotFound", err)
	}
	if n := fileSize(t, journalOf(path)); n != 0 {
		t.Errorf("journal holds %d bytes after the replay, want 0", n)
	}
}

// TestQueueRefusesInvalidBatch: a batch the store would refuse is refused
// by Queue's wait, not acknowledged and then dropped by a later
// transaction.
func TestQueueRefusesInvalidBatch(t *testing.T) {
	s, err := store.Open(filepath.Join(t.TempDir(), "store.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	bad := queuedOffer("maybe")
	if err := s.Queue(t.Context(), store.Batch{Offers: []store.Offer{bad}})(); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("Queue of an offer with status %q: %v, want ErrInvalid", bad.Status, err)
	}
	if _, err := s.Offer(t.Context(), bad.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the refused offer reads back: %v", err)
	}
}
