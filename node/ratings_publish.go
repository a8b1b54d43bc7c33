package node

import (
	"context"
	"fmt"
	"time"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node/store"
)

// joinRatings joins the one ratings topic every node serves, at start like
// the category topics, and delivers what its validator kept.
func (n *Node) joinRatings() error {
	sub, err := n.joinTopic(intent.RatingsTopic, n.trustValidator())
	if err != nil {
		return err
	}
	n.serve("delivery "+intent.RatingsTopic, serviceFunc(func(ctx context.Context) error {
		n.deliverLoop(ctx, sub, n.deliverTrust)
		return nil
	}))
	return nil
}

// deliverTrust reports what the ratings topic's validator kept.
func (n *Node) deliverTrust(ctx context.Context, m any) {
	switch m := m.(type) {
	case *RatingRecord:
		n.events.publish(Event{Kind: EventRating, IntentID: m.Rating.IntentID(), Rating: m})
	case *ratingReplyDelivered:
		if rec, err := n.Rating(ctx, m.reply.RatingID); err == nil {
			n.events.publish(Event{Kind: EventRatingReply, IntentID: rec.Rating.IntentID(), Rating: &rec})
		}
	case *intent.SignedVendorProfile:
		n.events.publish(Event{Kind: EventVendorProfile, Profile: m})
	}
}

// Rate publishes this node's rating of the deal of one of its intents: the
// deal record, signed with the intent's key, with the network's rating
// work. One rating per deal: ErrRated if it has one.
func (n *Node) Rate(ctx context.Context, intentID intent.ID, score uint, text string) (RatingRecord, error) {
	if err := n.alive(); err != nil {
		return RatingRecord{}, err
	}
	d, err := n.store.Deal(ctx, intentID)
	if err != nil {
		return RatingRecord{}, fmt.Errorf("deal for intent %s: %w", intentID.Short(), err)
	}
	if d.Role != store.RoleCustomer {
		return RatingRecord{}, fmt.Errorf("intent %s: %w: this node was the deal's vendor; its customer rates it", intentID.Short(), ErrNotYourDeal)
	}
	if _, ok := n.ratings.ratingOf(intentID); ok {
		return RatingRecord{}, fmt.Errorf("intent %s: %w", intentID.Short(), ErrRated)
	}
	own, err := n.ownIntent(ctx, intentID)
	if err != nil {
		return RatingRecord{}, err
	}
	rec, err := intent.NewDealRecord(d.IntentRaw, d.OfferInner, d.AcceptRaw, n.now())
	if err != nil {
		return RatingRecord{}, fmt.Errorf("rate the deal of intent %s: %w", intentID.Short(), err)
	}
	r, err := intent.NewRating(ctx, rec.Raw, own.keys.Signing, intent.RatingDraft{Score: score, Text: text, Created: n.now()}, n.cfg.Policy.RatingWork())
	if err != nil {
		return RatingRecord{}, err
	}
	if err := n.publishTrust(ctx, r.Raw); err != nil {
		return RatingRecord{}, err
	}
	return n.Rating(ctx, r.ID)
}

// ReplyToRating publishes this node's reply, as the rated vendor, to a
// rating it holds. One reply per rating: ErrReplied if it has one.
func (n *Node) ReplyToRating(ctx context.Context, ratingID intent.ID, text string) (RatingRecord, error) {
	if err := n.alive(); err != nil {
		return RatingRecord{}, err
	}
	rec, err := n.Rating(ctx, ratingID)
	if err != nil {
		return RatingRecord{}, err
	}
	if string(rec.Rating.VendorKey()) != string(n.identity.Signing.Public()) {
		return RatingRecord{}, fmt.Errorf("rating %s: %w: it rates vendor %x, this node is %x", ratingID.Short(), ErrNotYourDeal,
			rec.Rating.VendorKey()[:4], n.identity.Signing.Public()[:4])
	}
	if rec.Reply != nil {
		return RatingRecord{}, fmt.Errorf("rating %s: %w", ratingID.Short(), ErrReplied)
	}
	rep, err := intent.NewRatingReply(ctx, rec.Rating, n.identity.Signing, text, n.now(), n.cfg.Policy.RatingWork())
	if err != nil {
		return RatingRecord{}, err
	}
	if err := n.publishTrust(ctx, rep.Raw); err != nil {
		return RatingRecord{}, err
	}
	return n.Rating(ctx, ratingID)
}

// SetProfile signs and publishes this node's vendor profile. Nodes keep the
// newest, and nodes that join later get it by sync (set 4).
func (n *Node) SetProfile(ctx context.Context, d intent.ProfileDraft) (*intent.SignedVendorProfile, error) {
	if err := n.alive(); err != nil {
		return nil, err
	}
	if held := n.ratings.profile(n.identity.Signing.Public()); held != nil && !d.Created.After(held.CreatedAt()) {
		// Profiles are ordered by their created second: a second edit
		// within one second would lose to the first.
		d.Created = held.CreatedAt().Add(time.Second)
	}
	v, err := intent.NewVendorProfile(ctx, n.identity.Signing, d, n.cfg.Policy.RatingWork())
	if err != nil {
		return nil, err
	}
	if err := n.publishTrust(ctx, v.Raw); err != nil {
		return nil, err
	}
	return v, nil
}

// publishTrust publishes one of this node's own ratings, replies or
// profiles. Its own validator checks and keeps it first, as any message.
func (n *Node) publishTrust(ctx context.Context, raw []byte) error {
	if err := n.publishOn(ctx, intent.RatingsTopic, raw); err != nil {
		return fmt.Errorf("publish on the ratings topic: %w", err)
	}
	return nil
}
