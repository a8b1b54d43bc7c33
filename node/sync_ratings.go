package node

import (
	"context"
	"fmt"

	pubsub "github.com/libp2p/go-libp2p-pubsub"

	"github.com/intentcast/intentcast/intent"
)

// Ratings, replies and profiles in /intentcast/sync/3 (docs/PROTOCOL.md,
// "Ratings by sync"): sets 2 and 3 of a category are the ratings of its
// intents and the replies to them, listed and served by rating ID and by
// reply ID; set 4 is every vendor profile held, by profile ID, whatever
// the category. The requester validates each exactly as on the ratings
// topic. They outlive the intents, so a node serves them for every
// category of the roster.

// The sets and frame kinds of ratings.
const (
	syncSetRatings = 2 // ratings of the category's intents, by rating ID
	syncSetReplies = 3 // replies to them, by reply ID
	// syncSetProfiles is every vendor profile held, by profile ID: the
	// same for every category, so a requester asks for it once a session.
	syncSetProfiles = 4

	syncKindRating  = 5 // Msg is a rating
	syncKindReply   = 6 // Msg is a rating reply
	syncKindProfile = 7 // Msg is a vendor profile

	// syncMaxRatingFrame is the largest frame of /3: a rating and the
	// frame's keys.
	syncMaxRatingFrame = intent.MaxRatingSize + 64
)

// kindFits reports whether a response frame's kind answers a request for
// set (End fits every set).
func kindFits(kind, set uint) bool {
	switch kind {
	case syncKindEnd:
		return true
	case syncKindOffer:
		return set == syncSetOffers
	case syncKindRating:
		return set == syncSetRatings
	case syncKindReply:
		return set == syncSetReplies
	case syncKindProfile:
		return set == syncSetProfiles
	}
	return set == syncSetIntents
}

// ratingFrameBad reports whether a frame of a ratings kind has a shape
// other than its kind's; known is false for other kinds.
func ratingFrameBad(f *syncFrame, version int) (bad, known bool) {
	max := 0
	switch f.Kind {
	case syncKindRating:
		max = intent.MaxRatingSize
	case syncKindReply:
		max = intent.MaxReplySize
	case syncKindProfile:
		max = intent.MaxProfileSize
	default:
		return false, false
	}
	return version < 3 || len(f.Msg) == 0 || len(f.Msg) > max || f.Intent != nil || f.Next != 0 || f.More, true
}

// haveTrust lists the rating IDs (set 2) or reply IDs (set 3) this node
// holds of a category's intents, or the profile IDs it holds (set 4).
func (s *syncer) haveTrust(ctx context.Context, cat string, set uint) ([]haveEntry, error) {
	served, err := s.servedTrust(ctx, cat, set)
	if err != nil {
		return nil, err
	}
	out := make([]haveEntry, len(served))
	for i, e := range served {
		out[i] = haveEntry{prefix: e.prefix}
	}
	return out, nil
}

// servedTrust is what this node serves of set 2, 3 or 4 of a category.
func (s *syncer) servedTrust(ctx context.Context, cat string, set uint) ([]servedEntry, error) {
	if set == syncSetProfiles {
		profs, err := s.store.Profiles(ctx)
		if err != nil {
			return nil, fmt.Errorf("sync: vendor profiles: %w", err)
		}
		byID := make(map[intent.ID]servedEntry, len(profs))
		for _, p := range profs {
			byID[p.ID] = servedEntry{id: p.ID, raw: p.Raw, frameKind: syncKindProfile}
		}
		return sortServed(byID), nil
	}
	list, err := s.store.Ratings(ctx, cat)
	if err != nil {
		return nil, fmt.Errorf("sync: ratings: %w", err)
	}
	byID := make(map[intent.ID]servedEntry, len(list))
	for _, r := range list {
		switch {
		case set == syncSetRatings:
			byID[r.ID] = servedEntry{id: r.ID, raw: r.Raw, frameKind: syncKindRating}
		case r.ReplyID != (intent.ID{}):
			byID[r.ReplyID] = servedEntry{id: r.ReplyID, raw: r.ReplyRaw, frameKind: syncKindReply}
		}
	}
	return sortServed(byID), nil
}

// takeTrust validates a rating, reply or profile a responder sent, as the
// ratings topic's validator does, and delivers it.
func (ss *syncSession) takeTrust(ctx context.Context, rs *syncRound, f *syncFrame) error {
	n := ss.s.node
	m, err := intent.ParseTrust(f.Msg)
	if err != nil {
		return fmt.Errorf("%w: %w", errSyncViolation, err)
	}
	var id intent.ID
	var kind uint
	switch m := m.(type) {
	case *intent.SignedRating:
		id, kind = m.ID, syncKindRating
	case *intent.SignedRatingReply:
		id, kind = m.ID, syncKindReply
	case *intent.SignedVendorProfile:
		id, kind = m.ID, syncKindProfile
	}
	if id == (intent.ID{}) || f.Kind != kind || !kindFits(kind, rs.set) {
		return fmt.Errorf("%w: a frame of kind %d holds a %T", errSyncViolation, f.Kind, m)
	}
	if err := rs.place(prefixOf(id), false); err != nil {
		return err
	}
	kept, err := n.checkTrust(ctx, f.Msg)
	switch trustVerdict(err) {
	case pubsub.ValidationAccept:
		n.deliverTrust(ctx, kept)
		ss.s.count(func(c *SyncStats) { c.Ratings++ })
	case pubsub.ValidationReject:
		return fmt.Errorf("%w: %w", errSyncViolation, err)
	default:
		ss.s.count(func(c *SyncStats) { c.Ignored++ })
	}
	return nil
}
