package node

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node/store"
)

// The node's queries: what its user (the API, the CLI) shows. They answer
// from memory where the node keeps the state there (own and live intents)
// and read the store for the rest; either way they return parsed records.

// OwnIntents returns this node's own intents, newest first.
func (n *Node) OwnIntents(ctx context.Context) ([]IntentRecord, error) {
	if err := n.alive(); err != nil {
		return nil, err
	}
	owns, err := n.store.OwnIntents(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]IntentRecord, 0, len(owns))
	var counts map[intent.ID]*ownIntent // for those no longer in memory
	for _, rec := range owns {
		if o, ok := n.own.get(rec.ID); ok {
			out = append(out, n.withSends(o.record()))
			continue
		}
		if counts == nil {
			if counts, err = n.receivedCounts(ctx); err != nil {
				return nil, err
			}
		}
		in, err := intent.ParseIntent(rec.Raw)
		if err != nil {
			n.log.Warn("store holds an own intent that no longer parses; skipping", "intent", fmt.Sprintf("%x", rec.ID[:6]), "err", err)
			continue
		}
		o := ownIntent{rec: rec, in: in}
		if c, ok := counts[rec.ID]; ok {
			o.offers, o.refused = c.offers, c.refused
		}
		out = append(out, n.withSends(o.record()))
	}
	return out, nil
}

// withSends adds how far the own messages about an own intent got: the
// intent, and its cancel or accept.
func (n *Node) withSends(r IntentRecord) IntentRecord {
	if r.Own {
		r.Sends = slices.DeleteFunc(n.Sends(r.Intent.ID), func(s SendRecord) bool { return s.Kind == MessageOffer })
	}
	return r
}

// withSend adds how far a sent offer got.
func (n *Node) withSend(o OfferRecord) OfferRecord {
	if o.Direction == Sent {
		if s, ok := n.SendOf(o.ID); ok {
			o.Send = &s
		}
	}
	return o
}

// receivedCounts counts the received offers of every own intent.
func (n *Node) receivedCounts(ctx context.Context) (map[intent.ID]*ownIntent, error) {
	received, err := n.store.OffersByDirection(ctx, store.Received)
	if err != nil {
		return nil, err
	}
	counts := make(map[intent.ID]*ownIntent)
	for _, o := range received {
		c := counts[o.IntentID]
		if c == nil {
			c = &ownIntent{}
			counts[o.IntentID] = c
		}
		c.count(o.Status)
	}
	return counts, nil
}

// Intent returns the intent with that ID: one of this node's own, or one
// seen on the network, live or closed (State cancelled or accepted). It
// wraps ErrNotFound if it is neither (an intent is forgotten once it
// expires).
func (n *Node) Intent(ctx context.Context, id intent.ID) (IntentRecord, error) {
	if err := n.alive(); err != nil {
		return IntentRecord{}, err
	}
	o, err := n.ownIntent(ctx, id)
	if err == nil {
		return n.withSends(o.record()), nil
	}
	if !errors.Is(err, ErrNotOwn) {
		return IntentRecord{}, err
	}
	if rec, ok := n.live.lookup(id); ok && n.now().Before(rec.Intent.Body.ExpiresAt()) {
		return rec, nil
	}
	if c, err := n.Closure(ctx, id); err == nil && c.Intent != nil {
		return n.closedRecord(ctx, c)
	}
	return IntentRecord{}, fmt.Errorf("intent %s: %w", id.Short(), ErrNotFound)
}

// signedIntent finds the signed intent with that ID wherever the node
// keeps it: own intents, the live set; nil if none. The store has no
// other: the live set takes every intent before delivery stores it, start
// loads it back, and both drop it at the same expiry.
func (n *Node) signedIntent(ctx context.Context, id intent.ID) *intent.SignedIntent {
	if o, err := n.ownIntent(ctx, id); err == nil {
		return o.in
	}
	if in, ok := n.live.get(id); ok {
		return in
	}
	return nil
}

// Offers returns the offers this node holds for an intent, oldest first:
// those received for an own intent (refused ones too), or those it sent to
// another's. It wraps ErrNotFound if the node knows neither the intent nor
// any offer for it.
func (n *Node) Offers(ctx context.Context, intentID intent.ID) ([]OfferRecord, error) {
	if err := n.alive(); err != nil {
		return nil, err
	}
	offers, err := n.store.Offers(ctx, intentID)
	if err != nil {
		return nil, err
	}
	in := n.signedIntent(ctx, intentID)
	if in == nil && len(offers) == 0 {
		return nil, fmt.Errorf("intent %s (not its own, not live, no offers): %w", intentID.Short(), ErrNotFound)
	}
	out := make([]OfferRecord, 0, len(offers))
	for _, o := range offers {
		out = append(out, n.withSend(offerRecord(o, in)))
	}
	return out, nil
}

// Offer returns the offer with that ID.
func (n *Node) Offer(ctx context.Context, id intent.ID) (OfferRecord, error) {
	if err := n.alive(); err != nil {
		return OfferRecord{}, err
	}
	o, err := n.store.Offer(ctx, id)
	if err != nil {
		return OfferRecord{}, fmt.Errorf("offer %s: %w", id.Short(), err)
	}
	return n.withSend(offerRecord(o, n.signedIntent(ctx, o.IntentID))), nil
}

// OffersByDirection returns every offer received or sent, oldest first.
func (n *Node) OffersByDirection(ctx context.Context, d Direction) ([]OfferRecord, error) {
	if err := n.alive(); err != nil {
		return nil, err
	}
	offers, err := n.store.OffersByDirection(ctx, d)
	if err != nil {
		return nil, err
	}
	intents := make(map[intent.ID]*intent.SignedIntent)
	out := make([]OfferRecord, 0, len(offers))
	for _, o := range offers {
		in, ok := intents[o.IntentID]
		if !ok {
			in = n.signedIntent(ctx, o.IntentID)
			intents[o.IntentID] = in
		}
		out = append(out, n.withSend(offerRecord(o, in)))
	}
	return out, nil
}

// Deals returns every deal, newest first.
func (n *Node) Deals(ctx context.Context) ([]DealRecord, error) {
	if err := n.alive(); err != nil {
		return nil, err
	}
	deals, err := n.store.Deals(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]DealRecord, 0, len(deals))
	for _, d := range deals {
		r, err := n.dealRecord(ctx, d)
		if err != nil {
			n.log.Warn("skipping a stored deal", "err", err)
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

// Deal returns the deal for an intent.
func (n *Node) Deal(ctx context.Context, intentID intent.ID) (DealRecord, error) {
	if err := n.alive(); err != nil {
		return DealRecord{}, err
	}
	d, err := n.store.Deal(ctx, intentID)
	if err != nil {
		return DealRecord{}, fmt.Errorf("deal for intent %s: %w", intentID.Short(), err)
	}
	return n.dealRecord(ctx, d)
}

// dealRecord turns a stored deal into its record, with the intent as it
// stands and the offer's record.
func (n *Node) dealRecord(ctx context.Context, d store.Deal) (DealRecord, error) {
	in, err := intent.ParseIntent(d.IntentRaw)
	if err != nil {
		return DealRecord{}, fmt.Errorf("deal %x: stored intent no longer parses: %w", d.IntentID[:6], err)
	}
	var own *ownIntent
	if d.Role == store.RoleCustomer {
		if o, err := n.ownIntent(ctx, d.IntentID); err == nil {
			own = &o
		}
	}
	off, err := n.store.Offer(ctx, d.OfferID)
	if err != nil {
		// The deal holds the offer itself; the record only adds when it came.
		off = store.Offer{ID: d.OfferID, IntentID: d.IntentID, Direction: store.Sent, Received: d.Closed}
		if d.Role == store.RoleCustomer {
			off.Direction = store.Received
		}
	}
	return n.newDealRecord(d, in, own, off), nil
}

// newDealRecord assembles a deal's record from what the node holds: the
// intent, the own intent's state (customer side; nil on the vendor's) and
// the offer's record. On the vendor's side it opens the details the
// customer sealed to the vendor's key.
func (n *Node) newDealRecord(d store.Deal, in *intent.SignedIntent, own *ownIntent, off store.Offer) DealRecord {
	off.Inner, off.Status = d.OfferInner, store.OfferAccepted
	r := DealRecord{
		IntentID: d.IntentID, OfferID: d.OfferID, Role: d.Role, Closed: d.Closed,
		Intent: IntentRecord{Intent: in, State: store.IntentAccepted, AcceptedOffer: d.OfferID},
		Offer:  offerRecord(off, in),
	}
	if own != nil {
		r.Intent = own.record()
	}
	if len(d.AcceptRaw) == 0 {
		return r
	}
	a, err := intent.ParseAccept(d.AcceptRaw)
	if err == nil {
		r.Accept = a
		if d.Role == store.RoleVendor {
			r.Details, err = a.OpenDetails(n.identity.Reply)
		}
	}
	if err != nil {
		n.log.Warn("deal: cannot read the accept or open its details", "intent", intent.ID(d.IntentID).Short(), "err", err)
	}
	return r
}
