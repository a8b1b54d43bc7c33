package store

import (
	"crypto/sha256"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// holdWriter opens a write transaction of bbolt's own, so the store's next
// commit waits for it: the batches queued meanwhile stay in the queue until
// release is called.
func holdWriter(t *testing.T, s *Bolt) (release func()) {
	t.Helper()
	tx, err := s.db.Begin(true)
	if err != nil {
		t.Fatal(err)
	}
	done := false
	release = func() {
		if !done {
			done = true
			_ = tx.Rollback() // nothing written in it
		}
	}
	t.Cleanup(release)
	return release
}

// closing reports whether Close has stopped the write queue.
func (s *Bolt) closing() bool {
	s.group.mu.Lock()
	defer s.group.mu.Unlock()
	return s.group.closed
}

func testOffer(name string, intentID ID, at time.Time) Offer {
	return Offer{ID: sha256.Sum256([]byte(name)), IntentID: intentID, Direction: Received,
		Raw: []byte(name), Status: OfferValid, Received: at}
}

// TestReadsSeeQueuedWrites: what Queue took is read back before its
// transaction commits (the node reports a received offer and a vendor's
// deal then), in its place among the stored records, and a later queued
// version of a record wins over an earlier one.
func TestReadsSeeQueuedWrites(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "store.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() }) // after holdWriter's release
	ctx := t.Context()
	intentID := sha256.Sum256([]byte("intent"))
	t0 := time.Now().UTC()
	stored := testOffer("stored", intentID, t0.Add(time.Second))
	if err := s.Apply(ctx, Batch{Offers: []Offer{stored}}); err != nil {
		t.Fatal(err)
	}

	release := holdWriter(t, s)
	early, late := testOffer("early", intentID, t0), testOffer("late", intentID, t0.Add(2*time.Second))
	deal := Deal{IntentID: intentID, OfferID: early.ID, Role: RoleVendor, AcceptRaw: []byte("accept"), Closed: t0}
	tomb := Tombstone{IntentID: intentID, Category: "home", Raw: []byte("accept"), Expires: t0.Add(time.Hour)}
	first := s.Queue(ctx, Batch{Offers: []Offer{early, late}})
	accepted := early
	accepted.Status = OfferAccepted
	second := s.Queue(ctx, Batch{Offers: []Offer{accepted}, Deals: []Deal{deal}, Tombstones: []Tombstone{tomb}})

	got, err := s.Offer(ctx, early.ID)
	if err != nil || got.Status != OfferAccepted {
		t.Fatalf("queued offer: %+v, %v; want it accepted (the later queued version)", got.Status, err)
	}
	list, err := s.Offers(ctx, intentID)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range list {
		names = append(names, string(o.Raw))
	}
	if len(names) != 3 || names[0] != "early" || names[1] != "stored" || names[2] != "late" {
		t.Fatalf("offers of the intent: %v; want [early stored late] (oldest Received first)", names)
	}
	if dir, err := s.OffersByDirection(ctx, Received); err != nil || len(dir) != 3 {
		t.Fatalf("received offers: %d, %v; want 3", len(dir), err)
	}
	if d, err := s.Deal(ctx, intentID); err != nil || d.OfferID != early.ID {
		t.Fatalf("queued deal: %v", err)
	}
	if ds, err := s.Deals(ctx); err != nil || len(ds) != 1 {
		t.Fatalf("deals: %d, %v; want the queued one", len(ds), err)
	}
	if _, err := s.Tombstone(ctx, intentID); err != nil {
		t.Fatalf("queued tombstone: %v", err)
	}

	release()
	if err := errors.Join(first(), second()); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Offer(ctx, early.ID); err != nil || got.Status != OfferAccepted {
		t.Fatalf("offer once written: %+v, %v", got.Status, err)
	}
}

// TestCloseWritesTheQueue: Close writes every batch Queue took, also one
// still waiting behind the group being written, before it closes the file.
func TestCloseWritesTheQueue(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() }) // after holdWriter's release
	ctx := t.Context()
	intentID := sha256.Sum256([]byte("intent"))
	release := holdWriter(t, s)
	a, b := testOffer("a", intentID, time.Now()), testOffer("b", intentID, time.Now())
	waitA := s.Queue(ctx, Batch{Offers: []Offer{a}})
	waitB := s.Queue(ctx, Batch{Offers: []Offer{b}})
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	// Release the writer once Close has begun: b is then still waiting
	// behind a's group.
	deadline := time.Now().Add(10 * time.Second)
	for !s.closing() {
		if time.Now().After(deadline) {
			t.Fatal("Close did not stop the write queue")
		}
		select {
		case err := <-closed:
			t.Fatalf("Close returned (%v) while batches were queued", err)
		case <-time.After(time.Millisecond):
		}
	}
	release()
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(waitA(), waitB()); err != nil {
		t.Fatalf("queued writes at Close: %v", err)
	}
	if err := s.Apply(ctx, Batch{Offers: []Offer{a}}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Apply after Close: %v, want ErrClosed", err)
	}
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, o := range []Offer{a, b} {
		if _, err := s.Offer(ctx, o.ID); err != nil {
			t.Fatalf("offer %s after reopening: %v", o.Raw, err)
		}
	}
}
