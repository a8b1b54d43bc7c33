package node

import (
	"context"
	"errors"
	"fmt"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node/store"
)

// ErrNotLive reports an intent that is unknown, expired or cancelled.
var ErrNotLive = errors.New("intent is not live")

// ErrOwnIntent reports an offer to one of this node's own intents.
var ErrOwnIntent = errors.New("cannot offer on this node's own intent")

// SetFilter replaces the vendor filter.
func (n *Node) SetFilter(f Filter) {
	n.filterMu.Lock()
	defer n.filterMu.Unlock()
	n.filter = f
}

// Filter returns the vendor filter.
func (n *Node) Filter() Filter {
	n.filterMu.RLock()
	defer n.filterMu.RUnlock()
	return n.filter
}

// Feed returns the live intents that pass the vendor filter, oldest first.
// Cancelled and expired intents are not in it.
func (n *Node) Feed(context.Context) ([]IntentRecord, error) {
	if err := n.alive(); err != nil {
		return nil, err
	}
	// From memory, not the store: the store is written behind, and a feed
	// that lags the events would lose intents for a client that lists
	// right after an event.
	f := n.Filter()
	var out []IntentRecord
	for _, r := range n.live.list(n.now()) {
		if f.Match(&r.Intent.Body) && !n.isOwn(r.Intent.ID) {
			out = append(out, r)
		}
	}
	return out, nil
}

// LiveIntent returns a live intent by ID.
func (n *Node) LiveIntent(id intent.ID) (*intent.SignedIntent, error) {
	in, ok := n.live.get(id)
	if !ok || !n.now().Before(in.Body.ExpiresAt()) {
		return nil, fmt.Errorf("intent %s: %w", id.Short(), ErrNotLive)
	}
	return in, nil
}

// offerDefaults fills what d leaves empty: this node's vendor, now, and a
// validity of Config.OfferTTL that ends no later than the intent.
func (n *Node) offerDefaults(in *intent.SignedIntent, d *intent.OfferDraft) {
	if d.Vendor.Name == "" {
		d.Vendor = n.cfg.Vendor
	}
	if d.Created.IsZero() {
		d.Created = n.now()
	}
	if d.ValidUntil.IsZero() {
		d.ValidUntil = d.Created.Add(n.cfg.OfferTTL)
		if in.Body.ExpiresAt().Before(d.ValidUntil) {
			d.ValidUntil = in.Body.ExpiresAt()
		}
	}
}

// SendOffer answers a live intent: it signs the offer with the node's vendor
// identity, seals it to the intent's reply key, mints the network's offer
// work on it (tens of milliseconds by default), keeps it, and broadcasts it
// on the intent's offers topic.
func (n *Node) SendOffer(ctx context.Context, intentID intent.ID, d intent.OfferDraft) (*intent.SealedOffer, error) {
	if err := n.alive(); err != nil {
		return nil, err
	}
	in, err := n.LiveIntent(intentID)
	if err != nil {
		return nil, fmt.Errorf("offer: %w", err)
	}
	if n.isOwn(intentID) {
		return nil, fmt.Errorf("offer: intent %s: %w", intentID.Short(), ErrOwnIntent)
	}
	n.offerDefaults(in, &d)
	sealed, signed, err := intent.NewOffer(in, n.identity, d)
	if err != nil {
		return nil, fmt.Errorf("offer: %w", err)
	}
	mintCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(n.ctx, cancel) // Close stops the minting too
	defer stop()
	if err := sealed.Mint(mintCtx, n.cfg.Policy.OfferWork()); err != nil {
		return nil, fmt.Errorf("offer: %w", err)
	}
	// Checked as every relay will check it before it is kept: an offer
	// this node itself refuses (the intent closed while it was minted) is
	// never stored, so never listed as sent.
	if _, err := n.checkWith(ctx, "", in.Body.Category, true, sealed.Raw, checkOwn); err != nil {
		if _, lerr := n.LiveIntent(intentID); lerr != nil {
			return nil, fmt.Errorf("offer %s: %w", sealed.ID.Short(), lerr)
		}
		return nil, fmt.Errorf("offer %s: %w: %w", sealed.ID.Short(), ErrRefused, err)
	}
	stored := store.Offer{
		ID: sealed.ID, IntentID: intentID, Direction: store.Sent, Raw: sealed.Raw, Inner: signed.Raw,
		Status: store.OfferValid, Received: n.now(),
	}
	out := n.queue(MessageOffer, in, sealed.ID, sealed.Raw)
	// The intent goes with it (its live record is otherwise written
	// behind): a node restarted after a crash must know the intent it
	// offered on, with the offer counted, to make the deal when sync
	// brings the accept back (deliverAccept).
	live := store.LiveIntent{ID: in.ID, Category: in.Body.Category, Raw: in.Raw, Expires: in.Body.ExpiresAt(), Received: n.now()}
	if err := n.storeFirst(ctx, store.Batch{Offers: []store.Offer{stored}, Outbox: []store.Outgoing{out}, Live: []store.LiveIntent{live}}); err != nil {
		return nil, fmt.Errorf("offer: store: %w", err)
	}
	sent, ok := n.live.countSent(intentID)
	if !ok {
		sent = 1
	}
	rec := IntentRecord{Intent: in, Offers: sent}
	if _, err := n.send(ctx, out, nil); err != nil {
		if _, lerr := n.LiveIntent(intentID); lerr != nil {
			// Cancelled or expired while the offer was made: the
			// intent's state, not this node's fault.
			return nil, fmt.Errorf("offer %s: %w", sealed.ID.Short(), lerr)
		}
		return nil, fmt.Errorf("offer %s: %w", sealed.ID.Short(), err)
	}
	n.metrics.published(metricOffer)
	off := n.withSend(offerRecord(stored, in))
	n.events.publish(Event{Kind: EventOfferSent, IntentID: intentID, OfferID: sealed.ID, Intent: &rec, Offer: &off})
	return sealed, nil
}
