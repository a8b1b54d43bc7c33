package node

import (
	"context"
	"errors"
	"fmt"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node/store"
)

// deliver acts on a message the validators accepted: it is stored where this
// node has a stake in it and reported to subscribers.
func (n *Node) deliver(ctx context.Context, m any) {
	var err error
	switch m := m.(type) {
	case *intent.SignedIntent:
		n.deliverIntent(m)
	case *intent.SignedCancel:
		err = n.deliverCancel(ctx, m)
	case *intent.SealedOffer:
		err = n.deliverOffer(ctx, m)
	case *intent.SignedAccept:
		err = n.deliverAccept(ctx, m)
	case *intent.SealedThread:
		err = n.deliverThread(ctx, m)
	}
	if err != nil && ctx.Err() == nil {
		n.log.Error("deliver", "err", err)
	}
}

func (n *Node) deliverIntent(in *intent.SignedIntent) {
	n.metrics.delivered(metricIntent)
	n.replay.putLive(store.LiveIntent{
		ID: in.ID, Category: in.Body.Category, Raw: in.Raw,
		Expires: in.Body.ExpiresAt(), Received: n.now(),
	})
	if n.Filter().Match(&in.Body) && !n.isOwn(in.ID) {
		live, _ := n.live.peek(in.ID)
		rec := IntentRecord{Intent: in, Offers: live.sent}
		n.events.publish(Event{Kind: EventIntent, IntentID: in.ID, Intent: &rec})
	}
}

func (n *Node) deliverCancel(ctx context.Context, c *intent.SignedCancel) error {
	n.metrics.delivered(metricCancel)
	in, ok := n.live.get(c.IntentID)
	if !ok {
		return nil // pruned between validation and delivery
	}
	if err := n.closeIntent(ctx, in, c.Raw, intent.ID{}, store.Batch{}); err != nil {
		return fmt.Errorf("cancel %s: %w", c.ID.Short(), err)
	}
	rec := IntentRecord{Intent: in, State: store.IntentCancelled}
	if own, ok := n.own.get(c.IntentID); ok {
		rec = own.record()
	}
	n.events.publish(Event{Kind: EventCancel, IntentID: c.IntentID, Intent: &rec})
	return nil
}

// deliverOffer opens offers addressed to our own intents; any other offer
// was only relayed.
func (n *Node) deliverOffer(ctx context.Context, s *intent.SealedOffer) error {
	n.metrics.delivered(metricOffer)
	own, ok := n.own.get(s.IntentID)
	in, live := n.live.peek(s.IntentID)
	if !ok {
		if live {
			n.keepOffer(s, in) // every node keeps it alike
		}
		return nil
	}
	rec := store.Offer{ID: s.ID, IntentID: s.IntentID, Direction: store.Received, Raw: s.Raw, Status: store.OfferValid, Received: n.now()}
	opened, err := intent.OpenOffer(s, own.in, own.keys.Reply, n.now())
	if err != nil && !vendorSigned(err) {
		// Anyone can seal bytes to the intent's reply key, and relays
		// cannot tell them from an offer: such junk proves nothing about
		// anyone, so it is counted and dropped, not kept or shown.
		n.log.Debug("sealed junk dropped", "offer", s.ID.Short(), "intent", s.IntentID.Short(), "reason", err)
		if live {
			n.keepOffer(s, in) // relays cannot tell it from an offer either
		}
		return nil
	}
	// The customer keeps it too, but in the transaction of its received
	// offer: a kept copy written before it (by the next flush) would be
	// listed as held when sync asks peers for offers after a crash, and
	// the offer would never come back.
	var kept []store.RelayedOffer
	if live {
		if r, ok := n.admitOffer(s, in); ok {
			kept = append(kept, r)
		}
	}
	if opened != nil {
		rec.Inner = opened.Raw
	}
	if err != nil {
		// It broke the customer's terms (or could not be opened): it never
		// reaches the customer's screen, and is kept as evidence.
		rec.Status, rec.Reason = store.OfferRefused, err.Error()
		n.log.Info("offer refused", "offer", s.ID.Short(), "intent", s.IntentID.Short(), "reason", err)
	} else if own.rec.State != store.IntentOpen {
		rec.Status, rec.Reason = store.OfferLapsed, fmt.Sprintf("came after the intent was %s", own.rec.State)
	}
	// Reported while it is written (docs/ARCHITECTURE.md, "Durable before
	// acknowledged"): an accept of it is written after it, and a crash
	// before it is written leaves it with the relays, whose sync brings it
	// back.
	n.storeBehind(ctx, "offer "+s.ID.Short(), store.Batch{Offers: []store.Offer{rec}, Relay: kept})
	ir, ok := n.own.countOffer(s.IntentID, rec.Status)
	if !ok {
		ir = own.record()
	}
	off := offerRecord(rec, own.in)
	n.events.publish(Event{Kind: EventOffer, IntentID: s.IntentID, OfferID: s.ID, Status: string(rec.Status), Reason: rec.Reason, Intent: &ir, Offer: &off})
	return nil
}

// vendorSigned reports whether an OpenOffer error came after the vendor's
// signature verified: only then does the offer bind a vendor, and is worth
// keeping as evidence.
func vendorSigned(err error) bool {
	for _, e := range []error{intent.ErrWrongIntent, intent.ErrTermsMismatch, intent.ErrCurrency, intent.ErrOverCeiling, intent.ErrOfferExpired} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// deliverAccept closes the intent an accept fulfils, at every node, and
// records the deal when the accepted offer is one we sent: both in one
// transaction.
func (n *Node) deliverAccept(ctx context.Context, a *intent.SignedAccept) error {
	n.metrics.delivered(metricAccept)
	live, ok := n.live.lookup(a.IntentID)
	if !ok {
		return nil // closed or pruned between validation and delivery
	}
	in := live.Intent
	// An accept that names our offer but cannot make a deal with it still
	// closes the intent: its author signed it.
	var deal *DealRecord
	var batch store.Batch
	var dealErr error
	if live.Offers > 0 { // this node sent offers to it: one may be accepted
		deal, batch, dealErr = n.vendorDeal(ctx, a, in)
	}
	if err := n.closeIntent(ctx, in, a.Raw, a.OfferID, batch); err != nil {
		return errors.Join(dealErr, fmt.Errorf("accept %s: %w", a.ID.Short(), err))
	}
	if deal != nil {
		n.events.publish(Event{Kind: EventAccept, IntentID: a.IntentID, OfferID: a.OfferID, Intent: &deal.Intent, Offer: &deal.Offer, Deal: deal})
	}
	if dealErr != nil {
		return dealErr
	}
	if !n.isOwn(a.IntentID) {
		// The offers this node sent to it (none refused) are what the
		// record counts; they were counted in memory.
		rec := IntentRecord{Intent: in, State: IntentAccepted, AcceptedOffer: a.OfferID, Offers: live.Offers}
		n.events.publish(Event{Kind: EventClosed, IntentID: a.IntentID, Status: string(ClosedAccepted), Intent: &rec})
	}
	return nil
}

// vendorDeal makes the deal if the accepted offer is one this node sent:
// its record, and the writes (the offer accepted, the deal) for the
// closure's transaction. It returns nil and no writes otherwise.
func (n *Node) vendorDeal(ctx context.Context, a *intent.SignedAccept, in *intent.SignedIntent) (*DealRecord, store.Batch, error) {
	off, err := n.store.Offer(ctx, a.OfferID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && off.Direction != store.Sent) {
		return nil, store.Batch{}, nil
	}
	if err != nil {
		return nil, store.Batch{}, fmt.Errorf("accept %s: look up offer: %w", a.ID.Short(), err)
	}
	// The accept names our sealed offer but must also commit to what we
	// signed inside it; otherwise the deal record would not verify.
	signed, err := intent.ParseOffer(off.Inner)
	if err != nil {
		return nil, store.Batch{}, fmt.Errorf("accept %s: our stored offer: %w", a.ID.Short(), err)
	}
	if !a.Commits(signed) {
		return nil, store.Batch{}, fmt.Errorf("accept %s: %w: it commits to another offer than the one we sealed", a.ID.Short(), intent.ErrNotBound)
	}
	off.Status, off.AcceptRaw = store.OfferAccepted, a.Raw
	deal := store.Deal{
		IntentID: a.IntentID, OfferID: a.OfferID, Role: store.RoleVendor,
		IntentRaw: in.Raw, OfferInner: off.Inner, AcceptRaw: a.Raw, Closed: n.now(),
	}
	rec := n.newDealRecord(deal, in, nil, off)
	return &rec, store.Batch{Offers: []store.Offer{off}, Deals: []store.Deal{deal}}, nil
}
