package client

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/intentcast/intentcast/intent"
)

// ThreadView is a negotiation thread on one offer, as this node holds it
// (docs/PROTOCOL.md, "Negotiation threads"): the offer, then the counters
// and replies in order. Root, the offer's ID, names the thread.
type ThreadView struct {
	IntentID string `json:"intent_id"`
	Root     string `json:"root"`
	Role     string `json:"role"` // this node's side: customer or vendor
	// Open reports whether the thread takes another message (its intent is
	// open and it holds fewer than 8); Turn says whose it is.
	Open     bool                `json:"open"`
	Turn     string              `json:"turn"`
	Offer    OfferView           `json:"offer"`
	Messages []ThreadMessageView `json:"messages"`
}

// ThreadMessageView is one message of a thread.
type ThreadMessageView struct {
	ID        string    `json:"id"` // a revised offer's offer ID
	Seq       int       `json:"seq"`
	From      string    `json:"from"`      // customer or vendor
	Direction string    `json:"direction"` // sent or received
	Created   time.Time `json:"created"`
	Received  time.Time `json:"received"`
	// A counter's price, further terms and text; a reply's text and
	// revised offer.
	Price       string            `json:"price,omitempty"`
	PriceMinor  uint64            `json:"price_minor,omitempty"`
	Terms       []string          `json:"terms,omitempty"`
	CustomTerms map[string]string `json:"custom_terms,omitempty"`
	Text        string            `json:"text,omitempty"`
	Offer       *OfferView        `json:"offer,omitempty"`
}

// CounterRequest is the body of POST /v1/offers/{id}/thread/counter: the
// customer's answer to an offer. At least one field is required.
type CounterRequest struct {
	// Price as a decimal in major units ("950.00") or PriceMinor in minor
	// units; at most one.
	Price       string            `json:"price,omitempty"`
	PriceMinor  *uint64           `json:"price_minor,omitempty"`
	Terms       []string          `json:"terms,omitempty"` // roster names asked for on top of the intent's
	CustomTerms map[string]string `json:"custom_terms,omitempty"`
	Text        string            `json:"text,omitempty"`
}

// ThreadReplyRequest is the body of POST /v1/offers/{id}/thread/reply: the
// vendor's answer to the last counter. A price makes a revised offer
// (with OfferText, ValidFor as in OfferRequest); Text is the message.
// At least one of a price and Text is required.
type ThreadReplyRequest struct {
	Price      string  `json:"price,omitempty"`
	PriceMinor *uint64 `json:"price_minor,omitempty"`
	OfferText  string  `json:"offer_text,omitempty"`
	ValidFor   string  `json:"valid_for,omitempty"`
	Text       string  `json:"text,omitempty"`
}

// Thread returns the thread on an offer (its root, or any revised offer
// of it).
func (c *Client) Thread(ctx context.Context, offerID string) (ThreadView, error) {
	return get[ThreadView](ctx, c, "/v1/offers/"+url.PathEscape(offerID)+"/thread")
}

// Threads lists an intent's threads that have messages, oldest offer
// first.
func (c *Client) Threads(ctx context.Context, intentID string) ([]ThreadView, error) {
	return get[[]ThreadView](ctx, c, "/v1/intents/"+url.PathEscape(intentID)+"/threads")
}

// Counter answers an offer to an own intent.
func (c *Client) Counter(ctx context.Context, offerID string, req CounterRequest) (ThreadView, error) {
	var v ThreadView
	err := c.do(ctx, http.MethodPost, "/v1/offers/"+url.PathEscape(offerID)+"/thread/counter", req, &v)
	return v, err
}

// Reply answers the last counter on an offer this node sent.
func (c *Client) Reply(ctx context.Context, offerID string, req ThreadReplyRequest) (ThreadView, error) {
	var v ThreadView
	err := c.do(ctx, http.MethodPost, "/v1/offers/"+url.PathEscape(offerID)+"/thread/reply", req, &v)
	return v, err
}

// Draft turns a counter request into a counter in the intent's currency,
// held to the input rules: a counter must say something, within bounds.
func (req CounterRequest) Draft(currency string) (intent.CounterDraft, error) {
	d := intent.CounterDraft{Text: req.Text}
	if req.Price != "" || req.PriceMinor != nil {
		p, err := amount(req.Price, req.PriceMinor, currency, intent.FieldPrice, "price")
		if err != nil {
			return d, err
		}
		d.Price = p
	}
	if len(req.Terms) > 0 || len(req.CustomTerms) > 0 {
		t, err := termsFrom(append([]string{}, req.Terms...), req.CustomTerms) // no names: none, not the defaults
		if err != nil {
			return d, err
		}
		if err := intent.CheckTerms(t); err != nil {
			return d, err
		}
		d.Terms = t
	}
	if len(d.Text) > intent.MaxText {
		return d, intent.FieldErrorf(intent.FieldText, "The text is %d bytes; at most %d.", len(d.Text), intent.MaxText)
	}
	if d.Price == 0 && len(d.Terms.IDs) == 0 && len(d.Terms.Custom) == 0 && d.Text == "" {
		return d, intent.FieldErrorf(intent.FieldText, "Say something: give a price, terms or a question.")
	}
	return d, nil
}

// Draft turns a reply request into a reply to in: a price makes a revised
// offer, held to the rules of any offer to in (OfferRequest.Draft).
func (req ThreadReplyRequest) Draft(in *intent.SignedIntent, now time.Time) (intent.ReplyDraft, error) {
	d := intent.ReplyDraft{Text: req.Text}
	if len(d.Text) > intent.MaxText {
		return d, intent.FieldErrorf(intent.FieldText, "The text is %d bytes; at most %d.", len(d.Text), intent.MaxText)
	}
	if req.Price != "" || req.PriceMinor != nil {
		o, err := OfferRequest{IntentID: in.ID.String(), Price: req.Price, PriceMinor: req.PriceMinor, Text: req.OfferText, ValidFor: req.ValidFor}.
			Draft(in, intent.Vendor{}, false, now)
		if err != nil {
			return d, err
		}
		d.Offer = &o
	} else if req.OfferText != "" || req.ValidFor != "" {
		return d, intent.FieldErrorf(intent.FieldPrice, "offer_text and valid_for belong to a revised offer: give its price too.")
	}
	if d.Offer == nil && d.Text == "" {
		return d, intent.FieldErrorf(intent.FieldText, "Say something: give a revised price, text, or both.")
	}
	return d, nil
}
