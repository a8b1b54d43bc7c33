package node

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node/store"
)

// Customer-side errors.
var (
	ErrNotOwn      = errors.New("not one of this node's intents")
	ErrIntentState = errors.New("intent is not open")
	ErrOfferState  = errors.New("offer cannot be accepted")
)

// Publish makes an intent from d (fresh per-intent keys, proof of work
// minted on the caller's goroutine: ctx or Close cancels it, and progress
// reports how far it got), stores it with its keys while it broadcasts it,
// and returns once both are done. The intent is durable when Publish
// returns, so offers that come back can be opened after any later crash.
func (n *Node) Publish(ctx context.Context, d intent.Draft, progress intent.Progress) (*intent.SignedIntent, error) {
	if err := n.alive(); err != nil {
		return nil, err
	}
	if d.Work == 0 {
		d.Work = n.cfg.Policy.MinWorkFor(d.Category)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(n.ctx, cancel) // Close stops the minting too
	defer stop()
	in, keys, err := intent.NewIntent(ctx, d, progress)
	if err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	if err := n.publishMinted(ctx, in, keys); err != nil {
		return nil, err
	}
	return in, nil
}

// PublishMinted is the second half of Publish for an intent minted ahead of
// time by intent.NewIntent (by a batch tool, another machine, or a
// benchmark that keeps minting out of its timed phase): it stores the
// intent with its keys and broadcasts it. The node checks it like any
// gossip message, so an intent that breaks the node's Policy is stored but
// refused: its send status says so (SendRefused), and it never leaves.
func (n *Node) PublishMinted(ctx context.Context, in *intent.SignedIntent, keys intent.Keys) error {
	if err := n.alive(); err != nil {
		return err
	}
	return n.publishMinted(ctx, in, keys)
}

func (n *Node) publishMinted(ctx context.Context, in *intent.SignedIntent, keys intent.Keys) error {
	own := ownIntent{in: in, keys: keys, rec: store.OwnIntent{
		ID: in.ID, Category: in.Body.Category, Raw: in.Raw,
		SigningSeed: keys.Signing.Seed(), ReplySuite: uint16(keys.Reply.Suite()), ReplyKey: keys.Reply.Bytes(),
		Created: in.Body.CreatedAt(), Expires: in.Body.ExpiresAt(), State: store.IntentOpen,
	}}
	n.own.put(own) // before it leaves: it comes back by gossip, and so do offers
	// Sent while it is stored, not after: the disk sync is off the
	// intent's way into the network, and the call still returns (the
	// publish is acknowledged) only once the intent is durable. A crash
	// in between leaves an intent in the network that this node never
	// acknowledged and, after its restart, does not know: like one whose
	// author went silent, it lapses at its expiry, and nothing the node
	// said is contradicted. Offers and accepts are different: a peer acts
	// on them as commitments of this node, so they are stored first
	// (docs/ARCHITECTURE.md, "Durable before acknowledged"). Queued before
	// the send, so every later write (a received offer, the accept, the
	// outbox's status changes) lands after this one; its outbox row is in
	// the same batch, so an intent with no peer to take it is queued
	// durably with it.
	out := n.queue(MessageIntent, in, intent.ID{}, in.Raw)
	stored := n.store.Queue(ctx, store.Batch{Own: []store.OwnIntent{own.rec}, Outbox: []store.Outgoing{out}})
	_, sendErr := n.send(ctx, out, in)
	if err := stored(); err != nil {
		if sendErr == nil {
			return fmt.Errorf("publish intent %s: sent, but not stored (its offers can be opened only until this node restarts): %w", in.ID.Short(), err)
		}
		return fmt.Errorf("publish: store intent: %w", err)
	}
	if sendErr != nil {
		return fmt.Errorf("publish intent %s: %w", in.ID.Short(), sendErr)
	}
	n.metrics.published(metricIntent)
	rec := n.withSends(own.record())
	n.events.publish(Event{Kind: EventIntentPosted, IntentID: in.ID, Intent: &rec})
	return nil
}

// lockOwn serialises the changes of own intents' state (Cancel, Accept)
// from reading the state to storing the new one: without it a Cancel and
// an Accept of one intent that run at once both find it open, both
// succeed, and the later write silently replaces the state the other one
// acknowledged (found by cmd/intentcast's TestCrashLoop). The returned
// func unlocks, once; callers unlock before broadcasting, which may wait
// for a mesh peer.
func (n *Node) lockOwn() (unlock func()) {
	n.ownMu.Lock()
	var once sync.Once
	return func() { once.Do(n.ownMu.Unlock) }
}

// openOwn loads an own intent that is still open.
func (n *Node) openOwn(ctx context.Context, id intent.ID) (ownIntent, error) {
	own, err := n.ownIntent(ctx, id)
	if err != nil {
		return own, err
	}
	if own.rec.State != store.IntentOpen {
		return own, fmt.Errorf("intent %s is %s: %w", id.Short(), own.rec.State, ErrIntentState)
	}
	return own, nil
}

// Cancel withdraws one of this node's open intents: it signs a cancel with
// the intent's key, keeps a tombstone and broadcasts the cancel.
func (n *Node) Cancel(ctx context.Context, id intent.ID) error {
	if err := n.alive(); err != nil {
		return err
	}
	unlock := n.lockOwn()
	defer unlock()
	own, err := n.openOwn(ctx, id)
	if err != nil {
		return fmt.Errorf("cancel: %w", err)
	}
	c, err := intent.NewCancel(own.in, own.keys, n.now())
	if err != nil {
		return fmt.Errorf("cancel: %w", err)
	}
	lapsed, err := n.lapsed(ctx, id, intent.ID{})
	if err != nil {
		return fmt.Errorf("cancel %s: %w", id.Short(), err)
	}
	own.rec.State, own.rec.CancelRaw = store.IntentCancelled, c.Raw
	out := n.queue(MessageCancel, own.in, intent.ID{}, c.Raw)
	if err := n.storeFirst(ctx, store.Batch{Own: []store.OwnIntent{own.rec}, Offers: lapsed, Outbox: []store.Outgoing{out}}); err != nil {
		return fmt.Errorf("cancel %s: %w", id.Short(), err)
	}
	n.own.update(own)
	unlock()
	if _, err := n.send(ctx, out, nil); err != nil {
		return fmt.Errorf("cancel %s: %w", id.Short(), err)
	}
	n.metrics.published(metricCancel)
	return nil
}

// Accept accepts a valid offer to one of this node's open intents: it signs
// the accept with the intent's key (details, if any, sealed to the vendor),
// records the deal and broadcasts the accept.
func (n *Node) Accept(ctx context.Context, intentID, offerID intent.ID, details []byte) (DealRecord, error) {
	if err := n.alive(); err != nil {
		return DealRecord{}, err
	}
	unlock := n.lockOwn()
	defer unlock()
	own, err := n.openOwn(ctx, intentID)
	if err != nil {
		return DealRecord{}, fmt.Errorf("accept: %w", err)
	}
	off, err := n.store.Offer(ctx, offerID)
	if err != nil {
		return DealRecord{}, fmt.Errorf("accept offer %s: %w", offerID.Short(), err)
	}
	if off.IntentID != intentID || off.Direction != store.Received || off.Status != store.OfferValid {
		return DealRecord{}, fmt.Errorf("accept offer %s (status %s, for intent %x): %w", offerID.Short(), off.Status, off.IntentID[:6], ErrOfferState)
	}
	signed, err := intent.ParseOffer(off.Inner)
	if err != nil {
		return DealRecord{}, fmt.Errorf("accept offer %s: %w", offerID.Short(), err)
	}
	if !n.now().Before(signed.ValidUntilAt()) {
		return DealRecord{}, fmt.Errorf("accept offer %s: %w", offerID.Short(), intent.ErrOfferExpired)
	}
	a, err := intent.NewAccept(own.in, own.keys, offerID, signed, details, n.now())
	if err != nil {
		return DealRecord{}, fmt.Errorf("accept: %w", err)
	}
	lapsed, err := n.lapsed(ctx, intentID, offerID)
	if err != nil {
		return DealRecord{}, fmt.Errorf("accept: %w", err)
	}
	// The offer's and the intent's state, the other offers lapsing and the
	// deal in one transaction: all of the accept or none of it.
	off.Status, off.AcceptRaw = store.OfferAccepted, a.Raw
	own.rec.State, own.rec.AcceptedOffer = store.IntentAccepted, offerID
	deal := store.Deal{IntentID: intentID, OfferID: offerID, Role: store.RoleCustomer,
		IntentRaw: own.in.Raw, OfferInner: off.Inner, AcceptRaw: a.Raw, Closed: n.now()}
	out := n.queue(MessageAccept, own.in, offerID, a.Raw)
	if err := n.storeFirst(ctx, store.Batch{Own: []store.OwnIntent{own.rec}, Offers: append(lapsed, off), Deals: []store.Deal{deal}, Outbox: []store.Outgoing{out}}); err != nil {
		return DealRecord{}, fmt.Errorf("accept: store the deal: %w", err)
	}
	n.own.update(own)
	rec := n.newDealRecord(deal, own.in, &own, off)
	unlock()
	if _, err := n.send(ctx, out, nil); err != nil {
		return rec, fmt.Errorf("accept %s: %w", offerID.Short(), err)
	}
	n.metrics.published(metricAccept)
	n.events.publish(Event{Kind: EventAccepted, IntentID: intentID, OfferID: offerID, Intent: &rec.Intent, Offer: &rec.Offer, Deal: &rec})
	return rec, nil
}
