package node

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node/store"
)

// RatingLimits bound what this node keeps of ratings and vendor profiles
// (docs/PROTOCOL.md, "What a node keeps of ratings"); the zero value means
// the defaults. Ratings do not expire, so these bounds are all that stops
// them growing. A full rating bound evicts: a new rating takes the place
// of one of the vendor key holding the most (decideRating), so whoever
// fills a bound once cannot shut later ratings out for good.
type RatingLimits struct {
	// PerVendor bounds the ratings kept of one vendor key (default 10 000).
	PerVendor int
	// Total bounds the ratings kept in all (default 100 000).
	Total int
	// Bytes bounds the wire bytes of all ratings kept (default 128 MiB).
	Bytes int
	// Profiles bounds the vendor keys whose profile is kept (default
	// 10 000).
	Profiles int
}

func (l RatingLimits) withDefaults() RatingLimits {
	l.PerVendor = cmp.Or(l.PerVendor, 10_000)
	l.Total = cmp.Or(l.Total, 100_000)
	l.Bytes = cmp.Or(l.Bytes, 128<<20)
	l.Profiles = cmp.Or(l.Profiles, 10_000)
	return l
}

// Ignore-class outcomes of the ratings topic: what depends on this node's
// state, never on the message alone.
var (
	errRatedAlready   = errors.New("the deal already has a rating with a lower ID")
	errRepliedAlready = errors.New("the rating already has a reply with a lower ID")
	errUnknownRating  = errors.New("names a rating this node does not hold")
	errNotNewer       = errors.New("not newer than the profile held")
	errRatingsFull    = errors.New("rating bounds reached")
)

// Errors of the rating API.
var (
	// ErrRated: the customer already rated this deal; one rating per deal.
	ErrRated = errors.New("this deal is already rated")
	// ErrReplied: the vendor already answered this rating.
	ErrReplied = errors.New("this rating already has a reply")
	// ErrNotYourDeal: only the customer of a deal rates it, and only the
	// rated vendor answers a rating.
	ErrNotYourDeal = errors.New("not this node's to sign")
)

// ratingEntry is what the node keeps in memory of one rating: enough to
// decide on newcomers and to compute reputations without the store.
type ratingEntry struct {
	id, intentID intent.ID
	vendor       string // the vendor key's bytes
	score        uint8
	created      time.Time
	size         int
	witnessed    bool
	replyID      intent.ID // zero if none
}

// ratingBook is the node's verified ratings and profiles, in memory, rebuilt
// from the store at start. mu is held across a message's decision, its
// store write and the book's update, so two messages about one deal (or
// one vendor's profile) are decided one after the other.
type ratingBook struct {
	mu       sync.Mutex
	limits   RatingLimits
	ratings  map[intent.ID]*ratingEntry            // by rating ID
	byIntent map[intent.ID]*ratingEntry            // by rated intent
	byVendor map[string]map[intent.ID]*ratingEntry // by vendor key, then rating ID
	bytes    int
	profiles map[string]*intent.SignedVendorProfile // by vendor key
}

func newRatingBook(l RatingLimits) *ratingBook {
	return &ratingBook{
		limits: l, ratings: make(map[intent.ID]*ratingEntry), byIntent: make(map[intent.ID]*ratingEntry),
		byVendor: make(map[string]map[intent.ID]*ratingEntry), profiles: make(map[string]*intent.SignedVendorProfile),
	}
}

func entryOf(r store.Rating) *ratingEntry {
	return &ratingEntry{id: r.ID, intentID: r.IntentID, vendor: string(r.VendorKey), score: r.Score,
		created: r.Created, size: len(r.Raw), witnessed: r.Witnessed, replyID: r.ReplyID}
}

// load fills the book from the store.
func (b *ratingBook) load(ctx context.Context, s store.Store) error {
	list, err := s.Ratings(ctx, "")
	if err != nil {
		return fmt.Errorf("load ratings: %w", err)
	}
	for _, r := range list {
		b.add(entryOf(r))
	}
	profs, err := s.Profiles(ctx)
	if err != nil {
		return fmt.Errorf("load vendor profiles: %w", err)
	}
	for _, p := range profs {
		sp, err := intent.ParseVendorProfile(p.Raw)
		if err != nil {
			return fmt.Errorf("load vendor profile %x: %w", p.VendorKey[:4], err)
		}
		b.profiles[string(sp.Body.VendorKey)] = sp
	}
	return nil
}

// decideRating says whether a valid rating e may be kept (nil), which
// rating it replaces (old: the one held of its deal, if any) and which it
// evicts to stay within the bounds. b.mu must be held.
//
// A full bound evicts rather than refuses: ratings never expire, so a bound
// that only refused would let whoever fills it once shut every later
// rating out at this node for good. The rating that goes belongs to the
// newcomer's own vendor key for the per-vendor bound, and to the vendor key
// holding the most ratings for the others (ties go to the newcomer's key),
// and is the first of that key's in goesFirst order. The newcomer is
// refused instead when it would be that rating itself, so a rating evicted
// here that comes back by sync does not push out a newer one.
func (b *ratingBook) decideRating(e *ratingEntry) (old *ratingEntry, evict []*ratingEntry, err error) {
	if _, ok := b.ratings[e.id]; ok {
		return nil, nil, fmt.Errorf("rating %s: %w", e.id.Short(), errReplay)
	}
	if held, ok := b.byIntent[e.intentID]; ok {
		if string(held.id[:]) < string(e.id[:]) {
			return nil, nil, fmt.Errorf("rating %s: %w (%s)", e.id.Short(), errRatedAlready, held.id.Short())
		}
		return held, nil, nil
	}
	l := b.limits
	gone := make(map[intent.ID]bool)
	held := func(vendor string) int {
		n := len(b.byVendor[vendor])
		for _, v := range evict {
			if v.vendor == vendor {
				n--
			}
		}
		return n
	}
	total, size := len(b.ratings), b.bytes
	// take plans the eviction of one rating of vendor, or refuses e.
	take := func(vendor, bound string) error {
		victim := b.firstToGo(vendor, gone)
		if vendor == e.vendor && (victim == nil || goesFirst(e, victim)) {
			return fmt.Errorf("%w: %s, and this rating would go first", errRatingsFull, bound)
		}
		gone[victim.id] = true
		evict = append(evict, victim)
		total, size = total-1, size-victim.size
		return nil
	}
	if held(e.vendor) >= l.PerVendor {
		if err := take(e.vendor, fmt.Sprintf("%d ratings of vendor %x", l.PerVendor, e.vendor[:4])); err != nil {
			return nil, nil, err
		}
	}
	for total >= l.Total || size+e.size > l.Bytes {
		if err := take(b.mostRated(e.vendor, held), fmt.Sprintf("%d ratings or %d bytes in all", l.Total, l.Bytes)); err != nil {
			return nil, nil, err
		}
	}
	return nil, evict, nil
}

// goesFirst reports whether a is evicted before b: a rating of a deal this
// node did not witness before one it did (a deal staged offline costs no
// more than one made in the open, but only the open one is seen), then the
// older created, then the lower ID.
func goesFirst(a, b *ratingEntry) bool {
	if a.witnessed != b.witnessed {
		return !a.witnessed
	}
	if !a.created.Equal(b.created) {
		return a.created.Before(b.created)
	}
	return string(a.id[:]) < string(b.id[:])
}

// firstToGo returns the rating of vendor that goes first, leaving out
// those in gone; nil if there is none.
func (b *ratingBook) firstToGo(vendor string, gone map[intent.ID]bool) *ratingEntry {
	var first *ratingEntry
	for _, r := range b.byVendor[vendor] {
		if !gone[r.id] && (first == nil || goesFirst(r, first)) {
			first = r
		}
	}
	return first
}

// mostRated returns the vendor key holding the most ratings by held;
// mine, the newcomer's key, wins ties, then the lower key.
func (b *ratingBook) mostRated(mine string, held func(string) int) string {
	best, most := mine, held(mine)
	for v := range b.byVendor {
		if n := held(v); n > most || (n == most && best != mine && v < best) {
			best, most = v, n
		}
	}
	return best
}

// add puts e in the book, replacing the rating of its deal. b.mu must be
// held (or the book not shared yet).
func (b *ratingBook) add(e *ratingEntry) {
	if old, ok := b.byIntent[e.intentID]; ok {
		b.remove(old)
	}
	b.ratings[e.id] = e
	b.byIntent[e.intentID] = e
	if b.byVendor[e.vendor] == nil {
		b.byVendor[e.vendor] = make(map[intent.ID]*ratingEntry)
	}
	b.byVendor[e.vendor][e.id] = e
	b.bytes += e.size
}

func (b *ratingBook) remove(e *ratingEntry) {
	delete(b.ratings, e.id)
	delete(b.byIntent, e.intentID)
	delete(b.byVendor[e.vendor], e.id)
	if len(b.byVendor[e.vendor]) == 0 {
		delete(b.byVendor, e.vendor)
	}
	b.bytes -= e.size
}

// rating returns the entry of a rating held.
func (b *ratingBook) rating(id intent.ID) (ratingEntry, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.ratings[id]
	if !ok {
		return ratingEntry{}, false
	}
	return *e, true
}

// ratingOf returns the rating held of a deal (its intent).
func (b *ratingBook) ratingOf(intentID intent.ID) (ratingEntry, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.byIntent[intentID]
	if !ok {
		return ratingEntry{}, false
	}
	return *e, true
}

// profile returns the profile held of a vendor key.
func (b *ratingBook) profile(vendor []byte) *intent.SignedVendorProfile {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.profiles[string(vendor)]
}

// ofVendor returns copies of a vendor key's entries.
func (b *ratingBook) ofVendor(vendor []byte) []ratingEntry {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]ratingEntry, 0, len(b.byVendor[string(vendor)]))
	for _, e := range b.byVendor[string(vendor)] {
		out = append(out, *e)
	}
	return out
}
