package intent

import (
	"fmt"
	"slices"
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
