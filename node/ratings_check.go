package node

import (
	"context"
	"errors"
	"fmt"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node/store"
)

// The ratings topic's validation (docs/PROTOCOL.md, Ratings, "The order of
// checks"): the message's own checks, which every node reaches alike, then
// this node's state, which decides what it keeps. A message it accepts is
// stored before the validator returns, so what gossip forwards and sync
// serves is what the store holds.

// trustVerdict is verdict for the ratings topic: its own Ignore-class
// outcomes, then the shared ones.
func trustVerdict(err error) pubsub.ValidationResult {
	if errors.Is(err, errRatedAlready) || errors.Is(err, errRepliedAlready) || errors.Is(err, errUnknownRating) ||
		errors.Is(err, errNotNewer) || errors.Is(err, errRatingsFull) {
		return pubsub.ValidationIgnore
	}
	return verdict(err)
}

// trustValidator is the pubsub validator of the ratings topic.
func (n *Node) trustValidator() pubsub.ValidatorEx {
	return n.validatorOf(func(ctx context.Context, _ peer.ID, data []byte) (any, error) {
		return n.checkTrust(ctx, data)
	}, trustVerdict)
}

// checkTrust runs every rule on a message of the ratings topic and, if it
// passes, keeps it: the store first, then the book. It returns a
// *RatingRecord for a rating or reply, the profile for a profile.
func (n *Node) checkTrust(ctx context.Context, data []byte) (any, error) {
	m, err := intent.ParseTrust(data)
	if err != nil {
		return nil, err
	}
	now, p := n.now(), n.cfg.Policy
	switch m := m.(type) {
	case *intent.SignedRating:
		if err := m.Validate(now, p); err != nil {
			return nil, err
		}
		return n.keepRating(ctx, m)
	case *intent.SignedRatingReply:
		if err := m.CheckSigned(p); err != nil {
			return nil, err
		}
		return n.keepReply(ctx, m)
	case *intent.SignedVendorProfile:
		if err := m.Validate(now, p); err != nil {
			return nil, err
		}
		return n.keepProfile(ctx, m)
	}
	return nil, fmt.Errorf("%w: %T on the ratings topic", intent.ErrWrongTopic, m)
}

// keepRating applies the one-rating-per-deal rule and the bounds to a valid
// rating and stores it.
func (n *Node) keepRating(ctx context.Context, r *intent.SignedRating) (any, error) {
	b := n.ratings
	b.mu.Lock()
	defer b.mu.Unlock()
	rec := store.Rating{
		ID: r.ID, IntentID: r.IntentID(), VendorKey: r.VendorKey(), Category: r.Deal.Intent.Body.Category,
		Score: uint8(r.Body.Score), Raw: r.Raw, Created: r.CreatedAt(), Received: n.now(),
		Witnessed: n.witnessed(r.IntentID()),
	}
	e := entryOf(rec)
	_, evict, err := b.decideRating(e)
	if err != nil {
		return nil, err
	}
	gone := make([]store.ID, len(evict))
	for i, v := range evict {
		gone[i] = v.id
	}
	kept, err := n.store.PutRating(ctx, rec, gone...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errStoreFailure, err)
	}
	if !kept { // the store holds a lower one the book did not (cannot happen while mu is held)
		return nil, fmt.Errorf("rating %s: %w", r.ID.Short(), errRatedAlready)
	}
	for _, v := range evict {
		b.remove(v)
	}
	if len(evict) > 0 {
		n.log.Debug("ratings evicted at the bounds", "rating", r.ID.Short(), "evicted", len(evict))
	}
	b.add(e)
	return &RatingRecord{Rating: r, Received: rec.Received, Witnessed: rec.Witnessed}, nil
}

// witnessed reports whether this node saw the intent on the network: it is
// live here, closed here, or was seen by the replay index.
func (n *Node) witnessed(id intent.ID) bool {
	_, live := n.live.peek(id)
	return live || n.tombs.has(id) || n.replay.seen(id)
}

// keepReply checks a reply against the rating it names and stores it.
func (n *Node) keepReply(ctx context.Context, rep *intent.SignedRatingReply) (any, error) {
	b := n.ratings
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.ratings[rep.RatingID]
	if !ok {
		return nil, fmt.Errorf("rating reply %s: %w (%s)", rep.ID.Short(), errUnknownRating, rep.RatingID.Short())
	}
	if err := rep.Validate(intent.RatedDeal{RatingID: e.id, VendorKey: []byte(e.vendor), Created: e.created.Unix()}, n.now(), n.cfg.Policy); err != nil {
		return nil, err
	}
	switch {
	case e.replyID == rep.ID:
		return nil, fmt.Errorf("rating reply %s: %w", rep.ID.Short(), errReplay)
	case e.replyID != (intent.ID{}) && string(e.replyID[:]) < string(rep.ID[:]):
		return nil, fmt.Errorf("rating reply %s: %w", rep.ID.Short(), errRepliedAlready)
	}
	kept, err := n.store.PutRatingReply(ctx, e.id, rep.ID, rep.Raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errStoreFailure, err)
	}
	if !kept {
		return nil, fmt.Errorf("rating reply %s: %w", rep.ID.Short(), errRepliedAlready)
	}
	e.replyID = rep.ID
	return &ratingReplyDelivered{reply: rep}, nil
}

// ratingReplyDelivered is what the validator hands delivery for a reply.
type ratingReplyDelivered struct{ reply *intent.SignedRatingReply }

// keepProfile keeps a valid profile if it is newer than the one held and,
// for a new vendor key, if the bound allows.
func (n *Node) keepProfile(ctx context.Context, v *intent.SignedVendorProfile) (any, error) {
	b := n.ratings
	b.mu.Lock()
	defer b.mu.Unlock()
	key := string(v.Body.VendorKey)
	held, ok := b.profiles[key]
	switch {
	case ok && held.ID == v.ID:
		return nil, fmt.Errorf("vendor profile %s: %w", v.ID.Short(), errReplay)
	case ok && !v.Newer(held):
		return nil, fmt.Errorf("vendor profile %s: %w", v.ID.Short(), errNotNewer)
	case !ok && len(b.profiles) >= b.limits.Profiles:
		return nil, fmt.Errorf("%w: %d vendor profiles", errRatingsFull, b.limits.Profiles)
	}
	kept, err := n.store.PutProfile(ctx, store.VendorProfile{
		VendorKey: store.ID(v.Body.VendorKey), ID: v.ID, Raw: v.Raw, Created: v.CreatedAt(),
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errStoreFailure, err)
	}
	if !kept {
		return nil, fmt.Errorf("vendor profile %s: %w", v.ID.Short(), errNotNewer)
	}
	b.profiles[key] = v
	return v, nil
}
