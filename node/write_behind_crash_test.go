package node

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node/store"
)

// errCrashed is what crashStore's writes fail with once it crashed.
var errCrashed = errors.New("crashed before the write was committed")

// crashStore is a node's store whose chosen writes never commit: they
// wait, as a batch does in the write queue while the disk syncs the ones
// before it, until crash makes them and every later write fail, as a
// SIGKILL would leave them. The other writes pass until then.
type crashStore struct {
	store.Store
	hold func(store.Batch) bool

	mu      sync.Mutex
	held    int
	crashed bool
	down    chan struct{}
}

func newCrashStore(s store.Store, hold func(store.Batch) bool) *crashStore {
	return &crashStore{Store: s, hold: hold, down: make(chan struct{})}
}

// heldCount reports how many writes are held.
func (s *crashStore) heldCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held
}

func (s *crashStore) crash() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.crashed {
		s.crashed = true
		close(s.down)
	}
}

// admit reports whether b may be written; if not, wait fails it at the
// crash.
func (s *crashStore) admit(b store.Batch) (ok bool, wait func() error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.crashed {
		return false, func() error { return errCrashed }
	}
	if !s.hold(b) {
		return true, nil
	}
	s.held++
	return false, func() error { <-s.down; return errCrashed }
}

func (s *crashStore) Apply(ctx context.Context, b store.Batch) error {
	if ok, wait := s.admit(b); !ok {
		return wait()
	}
	return s.Store.Apply(ctx, b)
}

func (s *crashStore) Queue(ctx context.Context, b store.Batch) func() error {
	if ok, wait := s.admit(b); !ok {
		return wait
	}
	return s.Store.Queue(ctx, b)
}

func (s *crashStore) Behind(ctx context.Context, b store.Batch) func() error {
	if ok, wait := s.admit(b); !ok {
		return wait
	}
	return s.Store.Behind(ctx, b)
}

// crashNode starts a node on a crashStore over its own store file.
func crashNode(t *testing.T, cfg Config, hold func(store.Batch) bool) (*Node, *crashStore) {
	t.Helper()
	s, err := store.Open(filepath.Join(cfg.DataDir, StoreFile))
	if err != nil {
		t.Fatal(err)
	}
	cs := newCrashStore(s, hold)
	cfg.Store = cs
	n := startNode(t, cfg)
	t.Cleanup(func() { // before startNode's: a held write holds up Close
		cs.crash()
		_ = n.Close()
		_ = s.Close()
	})
	return n, cs
}

// crashAndRestart crashes n's store, closes n and its store file, and
// starts a node on that file again (a restart after a SIGKILL, bar the
// process).
func crashAndRestart(t *testing.T, n *Node, cs *crashStore, cfg Config, peers ...*Node) *Node {
	t.Helper()
	cs.crash()
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if err := cs.Store.Close(); err != nil {
		t.Fatal(err)
	}
	cfg.Bootstrap = addrsOf(peers...)
	return startNode(t, cfg)
}

func isReceivedOffer(b store.Batch) bool {
	for _, o := range b.Offers {
		if o.Direction == store.Received {
			return true
		}
	}
	return false
}

// TestWrittenBehindComesBackAfterCrash: a received offer and a vendor's
// deal are reported while their writes are still queued; a crash before
// they commit loses them, and after a restart they come back from the
// relays by sync, even when the replay flusher ran before the crash (its
// entries must not stand for the lost records) and when it did not (the
// vendor must still know the intent it offered on).
func TestWrittenBehindComesBackAfterCrash(t *testing.T) {
	relay := startNode(t, nodeConfig(t))
	ccfg := nodeConfig(t)
	ccfg.Bootstrap = addrsOf(relay)
	customer, cstore := crashNode(t, ccfg, isReceivedOffer)
	v1cfg, v2cfg := nodeConfig(t), nodeConfig(t)
	v1cfg.Bootstrap, v2cfg.Bootstrap = addrsOf(relay, customer), addrsOf(relay, customer)
	// Vendor 1's replay flusher writes (it runs before the crash); vendor
	// 2's never does (the crash came within its flush interval).
	vendor1, v1store := crashNode(t, v1cfg, func(b store.Batch) bool { return len(b.Deals) > 0 })
	vendor2, v2store := crashNode(t, v2cfg, func(b store.Batch) bool {
		return len(b.Deals) > 0 || (len(b.Offers) == 0 && len(b.Own) == 0 && len(b.Outbox) == 0)
	})
	awaitNodeMeshes(t, []*Node{relay, customer, vendor1, vendor2})

	ctx := t.Context()
	csub := customer.Subscribe()
	inA, err := customer.Publish(ctx, laptopDraft(time.Now()), nil)
	if err != nil {
		t.Fatal(err)
	}
	inB, err := customer.Publish(ctx, laptopDraft(time.Now()), nil)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "vendors know the intents", func() bool { return isLive(vendor1, inA.ID) && isLive(vendor2, inB.ID) })
	offerA, err := vendor1.SendOffer(ctx, inA.ID, intent.OfferDraft{Price: 99000})
	if err != nil {
		t.Fatal(err)
	}
	offerB, err := vendor2.SendOffer(ctx, inB.ID, intent.OfferDraft{Price: 98000})
	if err != nil {
		t.Fatal(err)
	}
	// In either order: the two offers take different paths, and an event
	// read while awaiting the other would be lost to the wait.
	for want := map[intent.ID]bool{offerA.ID: true, offerB.ID: true}; len(want) > 0; {
		e := awaitEvent(t, csub, "the customer reports both offers", func(e Event) bool { return e.Kind == EventOffer && want[e.OfferID] })
		delete(want, e.OfferID)
	}
	if got := cstore.heldCount(); got != 2 {
		t.Fatalf("%d received offers held in the write queue when reported, want 2", got)
	}
	eventually(t, 10*time.Second, "the relay keeps both offers", func() bool {
		kept, err := relay.store.RelayedOffers(ctx, "electronics", time.Now())
		return err == nil && len(kept)+len(relay.replay.pendingRelayed("electronics")) == 2
	})
	// The flusher ran after the offers were checked, before the crash.
	customer.replay.flush(ctx)
	customer = crashAndRestart(t, customer, cstore, ccfg, relay, vendor1, vendor2)
	eventually(t, 20*time.Second, "sync brings both offers back", func() bool {
		for _, id := range []intent.ID{offerA.ID, offerB.ID} {
			if o, err := customer.store.Offer(ctx, id); err != nil || o.Status != store.OfferValid {
				return false
			}
		}
		return true
	})

	awaitNodeMeshes(t, []*Node{relay, customer, vendor1, vendor2})
	v1sub, v2sub := vendor1.Subscribe(), vendor2.Subscribe()
	if _, err := customer.Accept(ctx, inA.ID, offerA.ID, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := customer.Accept(ctx, inB.ID, offerB.ID, nil); err != nil {
		t.Fatal(err)
	}
	awaitEvent(t, v1sub, "vendor 1 reports the deal", func(e Event) bool { return e.Kind == EventAccept && e.IntentID == inA.ID })
	awaitEvent(t, v2sub, "vendor 2 reports the deal", func(e Event) bool { return e.Kind == EventAccept && e.IntentID == inB.ID })
	if v1store.heldCount() == 0 || v2store.heldCount() == 0 {
		t.Fatalf("deals held in the write queue when reported: %d and %d, want both", v1store.heldCount(), v2store.heldCount())
	}
	vendor1.replay.flush(ctx)
	vendor1 = crashAndRestart(t, vendor1, v1store, v1cfg, relay, customer)
	vendor2 = crashAndRestart(t, vendor2, v2store, v2cfg, relay, customer)
	for _, c := range []struct {
		n  *Node
		in intent.ID
	}{{vendor1, inA.ID}, {vendor2, inB.ID}} {
		eventually(t, 20*time.Second, "sync brings the deal back", func() bool {
			d, err := c.n.store.Deal(ctx, c.in)
			return err == nil && d.Role == store.RoleVendor
		})
	}
}
