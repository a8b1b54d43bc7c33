package node

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/intentcast/intentcast/intent"
)

// RatingRecord is a rating this node verified and keeps, with the vendor's
// reply if one came.
type RatingRecord struct {
	Rating   *intent.SignedRating // validated: Rating.Deal holds the verified deal record
	Reply    *intent.SignedRatingReply
	Received time.Time
	// Witnessed: this node saw the rated intent on the network before the
	// rating came (docs/TRUST.md).
	Witnessed bool
}

// Reputation is a vendor key's record as this node computes it, from the
// ratings it verified alone. Nothing in it is taken from anyone's word.
type Reputation struct {
	VendorKey []byte
	Count     int
	Mean      float64 // 0 when Count is 0
	Scores    [intent.MaxScore]int
	// Recent is the ratings made in the last RecentWindow.
	Recent Tally
	// Witnessed is the ratings of deals whose intent this node saw on the
	// network before the rating: the intent was broadcast, so other vendors
	// could have answered it. Ratings of intents it never saw may come
	// from deals staged offline (docs/TRUST.md).
	Witnessed Tally
	Replies   int
	// Profile is the vendor's newest signed profile this node holds; nil
	// if none.
	Profile *intent.SignedVendorProfile
}

// Tally is a count of ratings and their mean score.
type Tally struct {
	Count int
	Mean  float64
}

// RecentWindow is how far back Reputation.Recent looks.
const RecentWindow = 30 * 24 * time.Hour

func (t *Tally) add(score uint8) {
	t.Mean = (t.Mean*float64(t.Count) + float64(score)) / float64(t.Count+1)
	t.Count++
}

// Reputation computes a vendor key's record from the ratings this node
// holds. An unknown key has a zero record.
func (n *Node) Reputation(vendorKey []byte) Reputation {
	r := Reputation{VendorKey: vendorKey, Profile: n.ratings.profile(vendorKey)}
	var all Tally
	since := n.now().Add(-RecentWindow)
	for _, e := range n.ratings.ofVendor(vendorKey) {
		all.add(e.score)
		r.Scores[e.score-1]++
		if !e.created.Before(since) {
			r.Recent.add(e.score)
		}
		if e.witnessed {
			r.Witnessed.add(e.score)
		}
		if e.replyID != (intent.ID{}) {
			r.Replies++
		}
	}
	r.Count, r.Mean = all.Count, all.Mean
	return r
}

// Rating returns a rating this node holds, verified again from its bytes.
func (n *Node) Rating(ctx context.Context, id intent.ID) (RatingRecord, error) {
	if err := n.alive(); err != nil {
		return RatingRecord{}, err
	}
	rec, err := n.store.Rating(ctx, id)
	if err != nil {
		return RatingRecord{}, fmt.Errorf("rating %s: %w", id.Short(), err)
	}
	return n.ratingRecord(rec.Raw, rec.ReplyRaw, rec.Received, rec.Witnessed)
}

// RatingsOf returns the ratings of a vendor key this node holds, newest
// first, at most limit of them (all if limit <= 0).
func (n *Node) RatingsOf(ctx context.Context, vendorKey []byte, limit int) ([]RatingRecord, error) {
	if err := n.alive(); err != nil {
		return nil, err
	}
	list, err := n.store.RatingsOfVendor(ctx, vendorKey)
	if err != nil {
		return nil, fmt.Errorf("ratings of vendor %x: %w", vendorKey, err)
	}
	slices.Reverse(list)
	if limit > 0 && len(list) > limit {
		list = list[:limit]
	}
	out := make([]RatingRecord, 0, len(list))
	for _, r := range list {
		rec, err := n.ratingRecord(r.Raw, r.ReplyRaw, r.Received, r.Witnessed)
		if err != nil {
			n.log.Warn("skipping a stored rating", "rating", intent.ID(r.ID).Short(), "err", err)
			continue
		}
		out = append(out, rec)
	}
	return out, nil
}

// RatingOf returns the rating this node holds of the deal of an intent.
func (n *Node) RatingOf(ctx context.Context, intentID intent.ID) (RatingRecord, error) {
	e, ok := n.ratings.ratingOf(intentID)
	if !ok {
		return RatingRecord{}, fmt.Errorf("rating of intent %s: %w", intentID.Short(), ErrNotFound)
	}
	return n.Rating(ctx, e.id)
}

func (n *Node) ratingRecord(raw, replyRaw []byte, received time.Time, witnessed bool) (RatingRecord, error) {
	r, err := intent.ParseRating(raw)
	if err == nil {
		// The policy's work and the time window held when it came; what is
		// checked again is that it still proves its deal and is signed.
		err = r.Validate(received, intent.Policy{MinWork: intent.NoWork, MinRatingWork: intent.NoWork})
	}
	if err != nil {
		return RatingRecord{}, fmt.Errorf("stored rating no longer verifies: %w", err)
	}
	rec := RatingRecord{Rating: r, Received: received, Witnessed: witnessed}
	if len(replyRaw) > 0 {
		if rec.Reply, err = intent.ParseRatingReply(replyRaw); err != nil {
			return RatingRecord{}, fmt.Errorf("stored rating reply no longer parses: %w", err)
		}
	}
	return rec, nil
}

// VendorKey is this node's long-term vendor key: it signs the node's
// offers, its replies to ratings and its profile.
func (n *Node) VendorKey() []byte { return n.identity.Signing.Public() }
