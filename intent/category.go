package intent

import (
	"fmt"
	"slices"
	"strings"
)

// Categories is the fixed roster of top-level categories. Each has its own
// pair of gossip topics. The list is short on purpose: a topic's subscribers
// form the anonymity set of the customers who publish on it, so finer
// distinctions travel inside the message (Intent.Path) and are filtered
// locally.
var Categories = []string{
	"electronics", "home", "travel", "vehicles", "services", "fashion",
	"food", "health", "finance", "housing", "jobs", "education",
	"entertainment", "sports", "other",
}

// TopicPrefix starts every intentcast gossip topic; "1" is the wire version.
const TopicPrefix = "intentcast/1/"

// IntentTopic is the topic that carries the intents and cancels of a category.
func IntentTopic(category string) string { return TopicPrefix + "intents/" + category }

// OfferTopic is the topic that carries the sealed offers and the accepts of a
// category.
func OfferTopic(category string) string { return TopicPrefix + "offers/" + category }

// ParseTopic splits an intentcast topic name into its category and kind
// (offers: the offers topic, else the intents topic); ok is false for any
// other name.
func ParseTopic(name string) (category string, offers, ok bool) {
	rest, found := strings.CutPrefix(name, TopicPrefix)
	if !found {
		return "", false, false
	}
	kind, category, _ := strings.Cut(rest, "/")
	if CheckCategory(category) != nil || (kind != "intents" && kind != "offers") {
		return "", false, false
	}
	return category, kind == "offers", true
}

// CheckTopic reports whether m, a message from Parse, may travel on the
// topic of category (offers: its offers topic, else its intents topic):
// intents and cancels on an intents topic, sealed offers, sealed thread
// messages and accepts on an offers topic, and an intent only on its own category's. (A cancel, offer
// or accept belongs to the category of the intent it names, which only a
// node that knows that intent can check.) Errors wrap ErrWrongTopic.
func CheckTopic(m any, category string, offers bool) error {
	var onOffers bool
	switch m := m.(type) {
	case *SignedIntent:
		if m.Body.Category != category {
			return fmt.Errorf("%w: intent %s of category %q on the %s topic", ErrWrongTopic, m.ID.Short(), m.Body.Category, category)
		}
	case *SignedCancel:
	case *SealedOffer, *SealedThread, *SignedAccept:
		onOffers = true
	default:
		return fmt.Errorf("%w: %T is not a wire message", ErrWrongTopic, m)
	}
	if onOffers != offers {
		return fmt.Errorf("%w: a %s on an %s topic", ErrWrongTopic, kindName(m), map[bool]string{false: "intents", true: "offers"}[offers])
	}
	return nil
}

func kindName(m any) string {
	switch m.(type) {
	case *SignedIntent:
		return "intent"
	case *SignedCancel:
		return "cancel"
	case *SealedOffer:
		return "sealed offer"
	case *SealedThread:
		return "sealed thread message"
	}
	return "accept"
}

// CheckCategory reports whether c is on the roster.
func CheckCategory(c string) error {
	if !slices.Contains(Categories, c) {
		return fmt.Errorf("%w: category %q is not one of %v", ErrSchema, c, Categories)
	}
	return nil
}

// checkPathSegment accepts lower-case ASCII letters, digits and '-': path
// segments are filter keys, so one spelling per meaning.
func checkPathSegment(s string) error {
	if len(s) == 0 || len(s) > MaxPathSegment {
		return fmt.Errorf("%w: sub-category %q must be 1..%d bytes", ErrSchema, s, MaxPathSegment)
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return fmt.Errorf("%w: sub-category %q may hold only a-z, 0-9 and '-'", ErrSchema, s)
		}
	}
	return nil
}
