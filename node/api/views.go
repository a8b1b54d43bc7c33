package api

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/multiformats/go-multiaddr"

	"github.com/intentcast/intentcast/crypto"
	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node/store"
)

// This file turns the node's records (signed wire bytes in the store) into
// the API's views.

func addrStrings(addrs []multiaddr.Multiaddr) []string {
	out := make([]string, 0, len(addrs))
	for _, a := range addrs {
		out = append(out, a.String())
	}
	return out
}

func vendorView(v intent.Vendor, key ed25519.PublicKey) VendorView {
	return VendorView{Name: v.Name, URL: v.URL, Key: hex.EncodeToString(key)}
}

// termNames names the roster terms of t; an id missing from this build's
// roster (a newer peer's) shows as "term-<id>".
func termNames(t intent.Terms) []string {
	out := make([]string, 0, len(t.IDs))
	for _, id := range t.IDs {
		name := fmt.Sprintf("term-%d", id)
		for _, r := range intent.Roster {
			if r.ID == id {
				name = r.Name
			}
		}
		out = append(out, name)
	}
	return out
}

// baseIntentView fills in what the signed intent itself says.
func baseIntentView(in *intent.SignedIntent) IntentView {
	b := &in.Body
	v := IntentView{
		ID:            in.ID.String(),
		Category:      b.Category,
		Path:          b.Path,
		Text:          b.Text,
		Quantity:      b.Want.Quantity,
		MaxPrice:      FormatAmount(b.Want.MaxPrice, b.Want.Currency),
		MaxPriceMinor: b.Want.MaxPrice,
		Currency:      b.Want.Currency,
		Region:        b.Want.Region,
		Terms:         termNames(b.Terms),
		CustomTerms:   b.Terms.Custom,
		Created:       b.CreatedAt().UTC(),
		Expires:       b.ExpiresAt().UTC(),
		Work:          b.Work,
		PostQuantum:   crypto.Suite(b.ReplyKey.Suite) == crypto.SuiteXWing,
	}
	if b.Want.DeliverBy != 0 {
		v.DeliverBy = time.Unix(b.Want.DeliverBy, 0).UTC()
	}
	return v
}

// countOffers sets the offer counters of v.
func countOffers(v *IntentView, offers []store.Offer) {
	for _, o := range offers {
		if o.Status == store.OfferRefused {
			v.RefusedOffers++
		} else {
			v.Offers++
		}
	}
}

// ownIntentView renders one of this node's own intents.
func (s *Server) ownIntentView(ctx context.Context, own store.OwnIntent, now time.Time) (IntentView, error) {
	in, err := intent.ParseIntent(own.Raw)
	if err != nil {
		return IntentView{}, fmt.Errorf("stored intent %x no longer parses: %w", own.ID[:6], err)
	}
	v := baseIntentView(in)
	v.Own = true
	v.State = string(own.State)
	if own.State == store.IntentOpen && !now.Before(own.Expires) {
		v.State = StateExpired
	}
	if own.AcceptedOffer != (store.ID{}) {
		v.AcceptedOffer = intent.ID(own.AcceptedOffer).String()
	}
	offers, err := s.n.Store().Offers(ctx, own.ID)
	if err != nil {
		return IntentView{}, fmt.Errorf("offers of intent %x: %w", own.ID[:6], err)
	}
	countOffers(&v, offers)
	return v, nil
}

// liveIntentView renders an intent seen on the network, with the offers
// this node sent to it.
func (s *Server) liveIntentView(ctx context.Context, in *intent.SignedIntent) (IntentView, error) {
	v := baseIntentView(in)
	v.State = StateLive
	offers, err := s.n.Store().Offers(ctx, in.ID)
	if err != nil {
		return IntentView{}, fmt.Errorf("offers of intent %s: %w", in.ID.Short(), err)
	}
	countOffers(&v, offers)
	return v, nil
}

// intentView renders the intent with that ID, own or live. It returns an
// unknown_intent error if the node knows neither.
func (s *Server) intentView(ctx context.Context, id intent.ID) (IntentView, error) {
	own, err := s.n.Store().OwnIntent(ctx, id)
	if err == nil {
		return s.ownIntentView(ctx, own, time.Now())
	}
	if !errors.Is(err, store.ErrNotFound) {
		return IntentView{}, err
	}
	if in, err := s.n.LiveIntent(id); err == nil {
		return s.liveIntentView(ctx, in)
	}
	return IntentView{}, errf(404, CodeUnknownIntent, "intent %s is neither one of this node's own nor a live intent it has seen (it may have expired or been cancelled)", id)
}

// isOwn reports whether id is one of this node's own intents. Own intents
// come back to their node by gossip like any other; the vendor's views
// (feed, intent events) leave them out: nobody answers their own intent.
func (s *Server) isOwn(ctx context.Context, id intent.ID) bool {
	_, err := s.n.Store().OwnIntent(ctx, id)
	return err == nil
}

// signedIntent finds the signed intent with that ID wherever the node keeps
// it: own intents, the live set, stored live intents. It returns nil if
// none has it.
func (s *Server) signedIntent(ctx context.Context, id intent.ID) *intent.SignedIntent {
	if own, err := s.n.Store().OwnIntent(ctx, id); err == nil {
		if in, err := intent.ParseIntent(own.Raw); err == nil {
			return in
		}
	}
	if in, err := s.n.LiveIntent(id); err == nil {
		return in
	}
	if l, err := s.n.Store().LiveIntent(ctx, id); err == nil {
		if in, err := intent.ParseIntent(l.Raw); err == nil {
			return in
		}
	}
	return nil
}

// offerView renders an offer. in is the intent it answers, if known: it
// decides terms_ok for a received offer.
func offerView(o store.Offer, in *intent.SignedIntent) OfferView {
	v := OfferView{
		ID:        intent.ID(o.ID).String(),
		IntentID:  intent.ID(o.IntentID).String(),
		Direction: string(o.Direction),
		Status:    string(o.Status),
		Reason:    o.Reason,
		Received:  o.Received.UTC(),
	}
	if len(o.Inner) == 0 {
		return v // refused before it could be opened: only the reason is known
	}
	signed, err := intent.ParseOffer(o.Inner)
	if signed == nil {
		if v.Reason == "" {
			v.Reason = err.Error()
		}
		return v
	}
	b := &signed.Body
	v.Price = FormatAmount(b.Price, b.Currency)
	v.PriceMinor = b.Price
	v.Currency = b.Currency
	v.Text = b.Text
	v.Vendor = vendorView(b.Vendor, b.VendorKey)
	v.Created = time.Unix(b.Created, 0).UTC()
	v.ValidUntil = signed.ValidUntilAt().UTC()
	switch {
	case in != nil:
		th := in.TermsHash()
		v.TermsOK = string(b.TermsHash) == string(th[:])
	case o.Direction == store.Sent:
		v.TermsOK = true // this node made the commitment from the intent
	}
	return v
}

// dealView renders a deal. On the vendor's side it opens the details the
// customer sealed to the vendor's key.
func (s *Server) dealView(ctx context.Context, d store.Deal) (DealView, error) {
	in, err := intent.ParseIntent(d.IntentRaw)
	if err != nil {
		return DealView{}, fmt.Errorf("deal %x: stored intent no longer parses: %w", d.IntentID[:6], err)
	}
	v := DealView{
		IntentID: intent.ID(d.IntentID).String(),
		OfferID:  intent.ID(d.OfferID).String(),
		Role:     string(d.Role),
		Closed:   d.Closed.UTC(),
	}
	if own, err := s.n.Store().OwnIntent(ctx, d.IntentID); err == nil {
		if v.Intent, err = s.ownIntentView(ctx, own, time.Now()); err != nil {
			return DealView{}, err
		}
	} else {
		v.Intent = baseIntentView(in)
		v.Intent.State = StateAccepted
	}
	rec, err := s.n.Store().Offer(ctx, d.OfferID)
	if err != nil {
		// The deal holds the offer itself; the record only adds when it came.
		rec = store.Offer{ID: d.OfferID, IntentID: d.IntentID, Direction: store.Sent, Inner: d.OfferInner, Status: store.OfferAccepted, Received: d.Closed}
		if d.Role == store.RoleCustomer {
			rec.Direction = store.Received
		}
	}
	rec.Inner = d.OfferInner
	rec.Status = store.OfferAccepted // the record may lag the deal by a moment
	v.Offer = offerView(rec, in)
	if d.Role == store.RoleVendor && len(d.AcceptRaw) > 0 {
		a, err := intent.ParseAccept(d.AcceptRaw)
		if err == nil {
			var details []byte
			if details, err = a.OpenDetails(s.n.Identity().Reply); err == nil {
				v.Details = string(details)
			}
		}
		if err != nil {
			s.log.Warn("deal: cannot open the accept's details", "intent", v.IntentID, "err", err)
		}
	}
	return v, nil
}

// parseID parses an ID from a path or body, as a bad_id error if it is
// malformed.
func parseID(s, what string) (intent.ID, error) {
	id, err := intent.ParseID(s)
	if err != nil {
		return id, errf(400, CodeBadID, "%s %q is not an ID: IDs are 64 hex digits, as the API shows them", what, s)
	}
	return id, nil
}
