package storetest

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/intentcast/intentcast/node/store"
)

func rating(name, intentName, vendorName, category string, created time.Time) store.Rating {
	v := idOf(vendorName)
	return store.Rating{
		ID: idOf(name), IntentID: idOf(intentName), VendorKey: v[:], Category: category, Score: 4,
		Raw: []byte("rating " + name), Created: created, Received: created.Add(time.Second), Witnessed: true,
	}
}

func ratingID(r store.Rating) store.ID { return r.ID }

// lowHigh returns two names whose IDs sort low, then high.
func lowHigh(a, b string) (string, string) {
	if ia, ib := idOf(a), idOf(b); bytes.Compare(ia[:], ib[:]) > 0 {
		return b, a
	}
	return a, b
}

// testRatingPerIntent: one rating per intent, the lower ID wins whatever
// the order, and a replaced rating takes its reply with it.
func testRatingPerIntent(t *testing.T, s store.Store) {
	ctx := t.Context()
	low, high := lowHigh("rating-x", "rating-y")
	put := func(r store.Rating, want bool) {
		t.Helper()
		kept, err := s.PutRating(ctx, r)
		must(t, err)
		if kept != want {
			t.Fatalf("PutRating(%s): kept %v, want %v", nameOf(r.ID), kept, want)
		}
	}
	hi := rating(high, "intent-1", "vendor-a", "home", t0)
	put(hi, true)
	kept, err := s.PutRatingReply(ctx, hi.ID, idOf("reply-h"), []byte("reply h"))
	must(t, err)
	if !kept {
		t.Fatal("a first reply was not kept")
	}
	lo := rating(low, "intent-1", "vendor-a", "home", t0.Add(time.Minute))
	put(lo, true)
	put(hi, false) // the lower ID is held: the higher never comes back
	put(lo, false) // a replay
	if _, err := s.Rating(ctx, hi.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the replaced rating: %v, want ErrNotFound", err)
	}
	got, err := s.Rating(ctx, lo.ID)
	must(t, err)
	same(t, "kept rating", got, lo)

	other := rating("rating-z", "intent-2", "vendor-b", "travel", t0)
	put(other, true)
	list, err := s.Ratings(ctx, "home")
	must(t, err)
	checkOrder(t, "Ratings(home)", list, ratingID, lo.ID)
	list, err = s.RatingsOfVendor(ctx, other.VendorKey)
	must(t, err)
	checkOrder(t, "RatingsOfVendor(b)", list, ratingID, other.ID)
	if list, err = s.Ratings(ctx, ""); err != nil || len(list) != 2 {
		t.Fatalf("Ratings(\"\"): %d ratings, %v; want 2", len(list), err)
	}
}

// testRatingReply: one reply per rating, the lower ID wins; a reply to a
// rating not held is ErrNotFound.
func testRatingReply(t *testing.T, s store.Store) {
	ctx := t.Context()
	if _, err := s.PutRatingReply(ctx, idOf("nothing"), idOf("reply"), []byte("r")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("reply to no rating: %v, want ErrNotFound", err)
	}
	r := rating("rating", "intent", "vendor", "home", t0)
	if _, err := s.PutRating(ctx, r); err != nil {
		t.Fatal(err)
	}
	low, high := lowHigh("reply-1", "reply-2")
	for _, c := range []struct {
		name string
		want bool
	}{{high, true}, {low, true}, {high, false}, {low, false}} {
		kept, err := s.PutRatingReply(ctx, r.ID, idOf(c.name), []byte(c.name))
		must(t, err)
		if kept != c.want {
			t.Fatalf("PutRatingReply(%s): kept %v, want %v", c.name, kept, c.want)
		}
	}
	got, err := s.Rating(ctx, r.ID)
	must(t, err)
	if got.ReplyID != idOf(low) || string(got.ReplyRaw) != low {
		t.Fatalf("reply held: %s %q, want %s", nameOf(got.ReplyID), got.ReplyRaw, low)
	}
}

// testVendorProfiles: the newest profile of a key wins, ties by the lower
// ID, whatever the order.
func testVendorProfiles(t *testing.T, s store.Store) {
	ctx := t.Context()
	key := idOf("vendor")
	low, high := lowHigh("profile-1", "profile-2")
	prof := func(name string, created time.Time) store.VendorProfile {
		return store.VendorProfile{VendorKey: key, ID: idOf(name), Raw: []byte(name), Created: created}
	}
	for _, c := range []struct {
		p    store.VendorProfile
		want bool
	}{
		{prof("profile-new", t0.Add(time.Hour)), true},
		{prof("profile-old", t0), false},
		{prof(high, t0.Add(2*time.Hour)), true},
		{prof(low, t0.Add(2*time.Hour)), true},
		{prof(high, t0.Add(2*time.Hour)), false},
	} {
		kept, err := s.PutProfile(ctx, c.p)
		must(t, err)
		if kept != c.want {
			t.Fatalf("PutProfile(%s at %v): kept %v, want %v", nameOf(c.p.ID), c.p.Created, kept, c.want)
		}
	}
	got, err := s.Profile(ctx, key)
	must(t, err)
	same(t, "profile", got, prof(low, t0.Add(2*time.Hour)))
	list, err := s.Profiles(ctx)
	must(t, err)
	if len(list) != 1 || list[0].ID != idOf(low) {
		t.Fatalf("Profiles: %d, want the one kept", len(list))
	}
	if _, err := s.Profile(ctx, idOf("nobody")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Profile of an unknown key: %v, want ErrNotFound", err)
	}
}

// testRatingInvalid: a rating with a vendor key that is not 32 bytes or a
// score outside 1..5 is refused and nothing is written.
func testRatingInvalid(t *testing.T, s store.Store) {
	ctx := t.Context()
	short := rating("r1", "i1", "v", "home", t0)
	short.VendorKey = short.VendorKey[:31]
	zero := rating("r2", "i2", "v", "home", t0)
	zero.Score = 0
	for _, r := range []store.Rating{short, zero} {
		if _, err := s.PutRating(ctx, r); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("PutRating(%s): %v, want ErrInvalid", nameOf(r.ID), err)
		}
	}
	if list, err := s.Ratings(ctx, ""); err != nil || len(list) != 0 {
		t.Fatalf("after refused puts: %d ratings, %v", len(list), err)
	}
}

// testRatingEvict: the ratings PutRating is told to evict go in the same
// write as the rating kept, and stay when it is not kept.
func testRatingEvict(t *testing.T, s store.Store) {
	ctx := t.Context()
	r1 := rating("r1", "i1", "v", "home", t0)
	r2 := rating("r2", "i2", "v", "home", t0.Add(time.Minute))
	for _, r := range []store.Rating{r1, r2} {
		kept, err := s.PutRating(ctx, r)
		must(t, err)
		if !kept {
			t.Fatalf("PutRating(%s) not kept", nameOf(r.ID))
		}
	}
	r3 := rating("r3", "i3", "v", "home", t0.Add(2*time.Minute))
	kept, err := s.PutRating(ctx, r3, r1.ID, idOf("not held"))
	must(t, err)
	if !kept {
		t.Fatal("PutRating(r3) evicting r1: not kept")
	}
	if _, err := s.Rating(ctx, r1.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the evicted rating: %v, want ErrNotFound", err)
	}
	// r2 again is a replay, not kept: what it names to evict stays.
	kept, err = s.PutRating(ctx, r2, r3.ID)
	must(t, err)
	if kept {
		t.Fatal("a replay of r2 was kept")
	}
	list, err := s.RatingsOfVendor(ctx, r2.VendorKey)
	must(t, err)
	if len(list) != 2 || list[0].ID != r2.ID || list[1].ID != r3.ID {
		t.Fatalf("the vendor's ratings: %d, want r2 and r3", len(list))
	}
}
