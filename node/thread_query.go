package node

import (
	"context"
	"fmt"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node/store"
)

// Thread returns the negotiation thread that offerID belongs to (its root
// offer, or a revised offer of it), as this node holds it; a thread with
// no message yet is the offer alone.
func (n *Node) Thread(ctx context.Context, offerID intent.ID) (ThreadRecord, error) {
	if err := n.alive(); err != nil {
		return ThreadRecord{}, err
	}
	root, err := n.threadRoot(ctx, offerID)
	if err != nil {
		return ThreadRecord{}, fmt.Errorf("thread: %w", err)
	}
	in := n.threadIntent(ctx, root.IntentID)
	if in == nil {
		return ThreadRecord{}, fmt.Errorf("thread of offer %s: intent %s: %w", offerID.Short(), intent.ID(root.IntentID).Short(), ErrNotFound)
	}
	return n.threadRecord(ctx, in, root, roleOf(root)), nil
}

// Threads returns the threads on an intent's offers that have messages,
// one per offer, oldest offer first.
func (n *Node) Threads(ctx context.Context, intentID intent.ID) ([]ThreadRecord, error) {
	if err := n.alive(); err != nil {
		return nil, err
	}
	msgs, err := n.store.ThreadMessages(ctx, intentID)
	if err != nil {
		return nil, err
	}
	in := n.threadIntent(ctx, intentID)
	if in == nil {
		if len(msgs) == 0 {
			return nil, fmt.Errorf("intent %s: %w", intentID.Short(), ErrNotFound)
		}
		return nil, fmt.Errorf("intent %s of %d thread messages: %w", intentID.Short(), len(msgs), ErrNotFound)
	}
	offers, err := n.store.Offers(ctx, intentID)
	if err != nil {
		return nil, err
	}
	has := make(map[store.ID]bool)
	for _, m := range msgs {
		has[m.Root] = true
	}
	var out []ThreadRecord
	for _, o := range offers {
		if has[o.ID] {
			out = append(out, n.threadRecord(ctx, in, o, roleOf(o)))
		}
	}
	return out, nil
}

// threadIntent finds a thread's intent wherever the node keeps it: after
// it closed, a vendor that did not win holds it only with its tombstone.
func (n *Node) threadIntent(ctx context.Context, id intent.ID) *intent.SignedIntent {
	if in := n.signedIntent(ctx, id); in != nil {
		return in
	}
	if c, err := n.Closure(ctx, id); err == nil {
		return c.Intent
	}
	return nil
}

// roleOf is this node's side of a thread on root.
func roleOf(root store.Offer) Role {
	if root.Direction == store.Sent {
		return RoleVendor
	}
	return RoleCustomer
}

// threadRecord shows the thread on root. Messages that no longer parse
// (they all did when kept) are left out rather than failing the view.
func (n *Node) threadRecord(ctx context.Context, in *intent.SignedIntent, root store.Offer, role Role) ThreadRecord {
	tr := ThreadRecord{IntentID: in.ID, Root: root.ID, Role: role, Offer: offerRecord(root, in)}
	msgs, err := n.threadMessages(ctx, root)
	if err != nil {
		n.log.Warn("thread view", "offer", intent.ID(root.ID).Short(), "err", err)
	}
	for _, sm := range msgs {
		m, err := intent.ParseThreadMessage(sm.Raw)
		if err != nil {
			n.log.Warn("stored thread message does not parse", "id", intent.ID(sm.ID).Short(), "err", err)
			continue
		}
		r := ThreadMessageRecord{ID: sm.ID, Seq: m.Seq(), Direction: sm.Direction, Created: m.CreatedAt(), Received: sm.Received}
		if c := m.Counter; c != nil {
			r.From, r.Price, r.Terms, r.Text = RoleCustomer, c.Price, c.Terms, c.Text
		} else {
			r.From, r.Text = RoleVendor, m.Reply.Text
			if m.Offer != nil {
				off := OfferRecord{ID: sm.ID, IntentID: in.ID, Direction: sm.Direction, Status: store.OfferValid, Received: sm.Received, Offer: m.Offer, TermsOK: true}
				if o, err := n.store.Offer(ctx, sm.ID); err == nil {
					off = offerRecord(o, in)
				}
				r.Offer = &off
			}
		}
		tr.Messages = append(tr.Messages, r)
	}
	next := len(tr.Messages) + 1
	tr.Turn = RoleCustomer
	if next%2 == 0 {
		tr.Turn = RoleVendor
	}
	tr.Open = next <= intent.MaxThreadMessages && n.threadOpen(in.ID, role) && root.Status != store.OfferRefused
	return tr
}
