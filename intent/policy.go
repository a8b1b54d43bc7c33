package intent

import "time"

// DefaultSkew is how far a message's created time may be ahead of a node's
// clock (and its expiry behind it) before the node ignores it. Minutes,
// not seconds: phones and home servers drift, and the cost of a wrong Ignore
// is a lost intent.
const DefaultSkew = 5 * time.Minute

// Policy holds a network's and a node's validation parameters. The zero
// value is the public network's default.
type Policy struct {
	// MinWork is the network-wide minimum proof of work of an intent, in
	// bits; 0 means DefaultWork. Every node of a network must agree on it
	// (like on the topic names): an intent below it is rejected. Test
	// networks lower it so intents mint instantly; use NoWork for none.
	MinWork int
	// TopicWork overrides MinWork per category (a busier topic can demand
	// more). Same agreement rule as MinWork.
	TopicWork map[string]int
	// LocalWork is this node's own, stricter threshold: an intent that
	// meets the network minimum but not this is ignored, never penalised.
	LocalWork int
	// MaxSkew is the allowed clock skew; 0 means DefaultSkew.
	MaxSkew time.Duration
	// MinOfferWork is the network-wide minimum proof of work of a sealed
	// offer, in bits; 0 means DefaultOfferWork, NoWork none. Same
	// agreement rule as MinWork.
	MinOfferWork int
	// MinRatingWork is the network-wide minimum proof of work of a rating,
	// a rating reply and a vendor profile, in bits; 0 means
	// DefaultRatingWork, NoWork none. Same agreement rule as MinWork.
	MinRatingWork int
}

// DefaultRatingWork is the default work of a rating, a reply or a profile:
// as much as an intent's (about a second of one core), so a burst of them
// costs what the same burst of intents would.
const DefaultRatingWork = 24

// NoWork, as Policy.MinWork, asks for no proof of work at all.
const NoWork = -1

func (p Policy) minWork(category string) int {
	if w, ok := p.TopicWork[category]; ok {
		return max(w, 0)
	}
	return workSetting(p.MinWork, DefaultWork)
}

// workSetting resolves a work field: 0 means def, negative (NoWork) none.
func workSetting(v, def int) int {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

// MinWorkFor returns the minimum work an intent in category needs.
func (p Policy) MinWorkFor(category string) int { return p.minWork(category) }

// OfferWork returns the minimum work a sealed offer needs.
func (p Policy) OfferWork() int { return workSetting(p.MinOfferWork, DefaultOfferWork) }

// RatingWork returns the minimum work a rating, a rating reply or a vendor
// profile needs.
func (p Policy) RatingWork() int { return workSetting(p.MinRatingWork, DefaultRatingWork) }

// Skew returns the allowed clock skew.
func (p Policy) Skew() time.Duration {
	if p.MaxSkew <= 0 {
		return DefaultSkew
	}
	return p.MaxSkew
}
