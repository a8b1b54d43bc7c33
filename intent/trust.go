package intent

import (
	"fmt"

	"github.com/intentcast/intentcast/crypto"
)

// RatingsTopic is the one topic of ratings, rating replies and vendor
// profiles, for every category: a vendor's record is one, whatever it
// sells, and every node subscribes to it, so subscribing tells nothing.
const RatingsTopic = TopicPrefix + "ratings"

// ParseTrust decodes a message of the ratings topic (a rating, a rating
// reply or a vendor profile) with the stateless checks of its kind. The
// category topics' kinds are malformed here, as these are there.
func ParseTrust(raw []byte) (any, error) {
	if len(raw) > MaxRatingSize {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(raw), MaxRatingSize)
	}
	msg, err := crypto.ParseSign1(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	switch msg.ContentType {
	case ContentRating:
		return orNil(ratingFrom(raw, msg))
	case ContentRatingReply:
		if len(raw) > MaxReplySize {
			return nil, fmt.Errorf("rating reply: %w: %d bytes, at most %d", ErrTooLarge, len(raw), MaxReplySize)
		}
		return orNil(replyFrom(raw, msg))
	case ContentVendorProfile:
		if len(raw) > MaxProfileSize {
			return nil, fmt.Errorf("vendor profile: %w: %d bytes, at most %d", ErrTooLarge, len(raw), MaxProfileSize)
		}
		return orNil(profileFrom(raw, msg))
	case ContentIntent, ContentCancel, ContentAccept:
		return nil, fmt.Errorf("%w: a %s on the ratings topic", ErrWrongTopic, msg.ContentType)
	}
	return nil, fmt.Errorf("%w: content type %q is not a message of the ratings topic", ErrMalformed, msg.ContentType)
}
