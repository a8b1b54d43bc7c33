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

// TestExportDealChecksTheRecord: a stored deal whose accept does not
// commit to its offer (as deals stored before accepts carried the offer's
// hash) is not exported; the error names the failed check.
func TestExportDealChecksTheRecord(t *testing.T) {
	n := startNode(t, nodeConfig(t))
	ctx := t.Context()
	in, keys, err := intent.NewIntent(ctx, laptopDraft(time.Now()), nil)
	if err != nil {
		t.Fatal(err)
	}
	vendor, err := crypto.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	draft := func(price uint64) intent.OfferDraft {
		return intent.OfferDraft{Price: price, Vendor: intent.Vendor{Name: "Acme"}, Created: time.Now(), ValidUntil: time.Now().Add(time.Hour)}
	}
	sealed, offer, err := intent.NewOffer(in, vendor, draft(100000))
	if err != nil {
		t.Fatal(err)
	}
	_, other, err := intent.NewOffer(in, vendor, draft(90000))
	if err != nil {
		t.Fatal(err)
	}
	accept, err := intent.NewAccept(in, keys, sealed.ID, other, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := n.store.PutDeal(ctx, store.Deal{IntentID: in.ID, OfferID: sealed.ID, Role: store.RoleCustomer,
		IntentRaw: in.Raw, OfferInner: offer.Raw, AcceptRaw: accept.Raw, Closed: time.Now()}); err != nil {
		t.Fatal(err)
	}
	var de *intent.DealError
	if _, err := n.ExportDeal(ctx, in.ID); !errors.As(err, &de) || de.Check != intent.CheckAcceptOffer {
		t.Fatalf("ExportDeal of an unbound deal: %v, want check accept-offer to fail", err)
	}
	if _, err := n.ExportDeal(ctx, intent.ID{1}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ExportDeal of no deal: %v, want ErrNotFound", err)
	}
}
