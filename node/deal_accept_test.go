package node

import (
	"errors"
	"testing"
	"time"

	"github.com/intentcast/intentcast/crypto"
	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node/store"
)

// TestVendorRefusesAcceptOfAnotherOffer: an accept signed with the
// intent's key that names the vendor's sealed offer but commits to another
// offer (here a rival's) would make a deal record that does not verify, so
// the vendor records no deal.
func TestVendorRefusesAcceptOfAnotherOffer(t *testing.T) {
	nodes := sparseSwarm(t, 2, 1)
	customer, vendor := nodes[0], nodes[1]
	ctx := t.Context()
	in, err := customer.Publish(ctx, laptopDraft(time.Now()), nil)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the vendor knows the intent", func() bool { return isLive(vendor, in.ID) })
	sealed, err := vendor.SendOffer(ctx, in.ID, intent.OfferDraft{Price: 100000, Vendor: intent.Vendor{Name: "Acme"}})
	if err != nil {
		t.Fatal(err)
	}

	own, err := customer.store.OwnIntent(ctx, in.ID)
	if err != nil {
		t.Fatal(err)
	}
	o, err := parseOwn(own)
	if err != nil {
		t.Fatal(err)
	}
	keys := o.keys
	rival, err := crypto.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	_, rivalOffer, err := intent.NewOffer(in, rival, intent.OfferDraft{Price: 90000, Vendor: intent.Vendor{Name: "Rival"},
		Created: time.Now(), ValidUntil: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	forged, err := intent.NewAccept(in, keys, sealed.ID, rivalOffer, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := vendor.deliverAccept(ctx, forged); !errors.Is(err, intent.ErrNotBound) {
		t.Fatalf("deliverAccept of an accept committing to another offer: %v, want ErrNotBound", err)
	}
	if _, err := vendor.store.Deal(ctx, in.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the vendor recorded a deal from it: %v", err)
	}
	if off, err := vendor.store.Offer(ctx, sealed.ID); err != nil || off.Status != store.OfferValid {
		t.Fatalf("the vendor's offer is %s (%v), want still valid", off.Status, err)
	}
}
