package api

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/multiformats/go-multiaddr"

	"github.com/intentcast/intentcast/crypto"
	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node"
	"github.com/intentcast/intentcast/node/api/client"
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

func vendorView(v intent.Vendor, key ed25519.PublicKey) client.VendorView {
	return client.VendorView{Name: v.Name, URL: v.URL, Key: hex.EncodeToString(key)}
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
func baseIntentView(in *intent.SignedIntent) client.IntentView {
	b := &in.Body
	v := client.IntentView{
		ID:            in.ID.String(),
		Category:      b.Category,
		Path:          b.Path,
		Text:          b.Text,
		Quantity:      b.Want.Quantity,
		MaxPrice:      intent.FormatAmount(b.Want.MaxPrice, b.Want.Currency),
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

// recordView renders an intent as the node holds it, own or live.
func recordView(r node.IntentRecord, now time.Time) client.IntentView {
	v := baseIntentView(r.Intent)
	v.Own = r.Own
	v.Offers, v.RefusedOffers = r.Offers, r.Refused
	switch {
	case r.Own && r.State == node.IntentOpen && !now.Before(r.Intent.Body.ExpiresAt()):
		v.State = client.StateExpired
	case r.State != "":
		v.State = string(r.State)
	default:
		v.State = client.StateLive
	}
	if !r.AcceptedOffer.IsZero() {
		v.AcceptedOffer = r.AcceptedOffer.String()
	}
	for _, sr := range r.Sends {
		sv := sendView(sr)
		switch sr.Kind {
		case node.MessageIntent:
			v.Send = &sv
		case node.MessageCancel:
			v.CancelSend = &sv
		case node.MessageAccept:
			v.AcceptSend = &sv
		}
	}
	return v
}

// sendView renders how far an own message got.
func sendView(r node.SendRecord) client.SendView {
	return client.SendView{
		Status: string(r.Status), Peers: r.Peers, Reason: r.Reason,
		Queued: utc(r.Queued), Sent: utc(r.Sent), Seen: utc(r.Seen), Refused: utc(r.Refused),
	}
}

// utc is t in UTC, and the zero time for the zero time.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}

// intentView renders the intent with that ID, own or live. It returns an
// unknown_intent error if the node knows neither.
func (s *Server) intentView(ctx context.Context, id intent.ID) (client.IntentView, error) {
	r, err := s.n.Intent(ctx, id)
	if isNotFound(err) {
		return client.IntentView{}, errf(404, client.CodeUnknownIntent, "intent %s is neither one of this node's own nor an intent it has seen that is live or closed (it may have expired)", id)
	}
	if err != nil {
		return client.IntentView{}, err
	}
	return recordView(r, time.Now()), nil
}

// offerView renders an offer.
func offerView(o node.OfferRecord) client.OfferView {
	v := client.OfferView{
		ID:        o.ID.String(),
		IntentID:  o.IntentID.String(),
		Direction: string(o.Direction),
		Status:    string(o.Status),
		Reason:    o.Reason,
		Received:  o.Received.UTC(),
		TermsOK:   o.TermsOK,
	}
	if o.Send != nil {
		sv := sendView(*o.Send)
		v.Send = &sv
	}
	if o.Offer == nil {
		return v // refused before it could be opened: only the reason is known
	}
	b := &o.Offer.Body
	v.Price = intent.FormatAmount(b.Price, b.Currency)
	v.PriceMinor = b.Price
	v.Currency = b.Currency
	v.Text = b.Text
	v.Vendor = vendorView(b.Vendor, b.VendorKey)
	v.Created = time.Unix(b.Created, 0).UTC()
	v.ValidUntil = o.Offer.ValidUntilAt().UTC()
	return v
}

// dealView renders a deal.
func dealView(d node.DealRecord, now time.Time) client.DealView {
	return client.DealView{
		IntentID: d.IntentID.String(),
		OfferID:  d.OfferID.String(),
		Role:     string(d.Role),
		Closed:   d.Closed.UTC(),
		Details:  string(d.Details),
		Offer:    offerView(d.Offer),
		Intent:   recordView(d.Intent, now),
	}
}

// parseID parses an ID from a path or body, as a bad_id error if it is
// malformed.
func parseID(s, what string) (intent.ID, error) {
	id, err := intent.ParseID(s)
	if err != nil {
		return id, errf(400, client.CodeBadID, "%s %q is not an ID: IDs are 64 hex digits, as the API shows them", what, s)
	}
	return id, nil
}
