package node

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	pubsub "github.com/libp2p/go-libp2p-pubsub"

	"github.com/intentcast/intentcast/crypto"
	"github.com/intentcast/intentcast/intent"
)

// offlineDeal is a real deal made without a network: an intent with the
// test network's work, a vendor's offer to it and the customer's accept.
type offlineDeal struct {
	in     *intent.SignedIntent
	keys   intent.Keys
	vendor crypto.Identity
	record []byte
}

func newOfflineDeal(t *testing.T, work int) offlineDeal {
	t.Helper()
	now := time.Now()
	d := laptopDraft(now.Add(-time.Hour))
	d.Work = work
	in, keys, err := intent.NewIntent(t.Context(), d, nil)
	if err != nil {
		t.Fatal(err)
	}
	vendor, err := crypto.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	sealed, offer, err := intent.NewOffer(in, vendor, intent.OfferDraft{Price: 99900, Vendor: intent.Vendor{Name: "Acme"},
		Created: now.Add(-50 * time.Minute), ValidUntil: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	accept, err := intent.NewAccept(in, keys, sealed.ID, offer, nil, now.Add(-40*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := intent.NewDealRecord(in.Raw, offer.Raw, accept.Raw, now)
	if err != nil {
		t.Fatal(err)
	}
	return offlineDeal{in: in, keys: keys, vendor: vendor, record: rec.Raw}
}

// rate signs a rating of the deal with key (the intent's, for an honest
// one) and bits of rating work.
func (d offlineDeal) rate(t *testing.T, key crypto.SigningKey, score uint, text string, bits int) *intent.SignedRating {
	t.Helper()
	r, err := intent.NewRating(t.Context(), d.record, key, intent.RatingDraft{Score: score, Text: text, Created: time.Now()}, bits)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

const testRatingWork = 4 // testPolicy.MinRatingWork

// TestRatingLifecycle runs the whole loop on real nodes: a deal, the
// vendor's profile, the customer's rating, the vendor's reply; a third node
// sees each, computes the vendor's reputation and reports events; and
// neither side can sign what is the other's to sign.
func TestRatingLifecycle(t *testing.T) {
	nodes := sparseSwarm(t, 3, 4)
	customer, vendor, observer := nodes[0], nodes[1], nodes[2]
	ctx := t.Context()
	events := observer.Subscribe()
	defer events.Close()

	in, err := customer.Publish(ctx, laptopDraft(time.Now()), nil)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the vendor knows the intent", func() bool { return isLive(vendor, in.ID) })
	sealed, err := vendor.SendOffer(ctx, in.ID, intent.OfferDraft{Price: 100000, Vendor: intent.Vendor{Name: "Acme"}})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the customer opens the offer", func() bool {
		_, err := customer.Offer(ctx, sealed.ID)
		return err == nil
	})
	if _, err := customer.Accept(ctx, in.ID, sealed.ID, nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the vendor records the deal", func() bool {
		_, err := vendor.store.Deal(ctx, in.ID)
		return err == nil
	})

	vendorKey := vendor.identity.Signing.Public()
	if _, err := vendor.SetProfile(ctx, intent.ProfileDraft{Name: "Acme Laptops", URL: "https://acme.example",
		Description: "Refurbished laptops", Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	awaitEvent(t, events, "the vendor's profile", func(e Event) bool { return e.Kind == EventVendorProfile })
	if p := observer.Reputation(vendorKey).Profile; p == nil || p.Body.Name != "Acme Laptops" {
		t.Fatalf("observer's profile of the vendor: %+v", p)
	}

	if _, err := vendor.Rate(ctx, in.ID, 5, "I rate myself"); !errors.Is(err, ErrNotYourDeal) {
		t.Fatalf("the vendor rating its own deal: %v, want ErrNotYourDeal", err)
	}
	rated, err := customer.Rate(ctx, in.ID, 4, "Arrived on time")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := customer.Rate(ctx, in.ID, 1, "changed my mind"); !errors.Is(err, ErrRated) {
		t.Fatalf("a second rating of one deal: %v, want ErrRated", err)
	}
	e := awaitEvent(t, events, "the rating", func(e Event) bool { return e.Kind == EventRating })
	if e.Rating.Rating.ID != rated.Rating.ID || e.Rating.Rating.Body.Score != 4 {
		t.Fatalf("rating event: %+v", e.Rating)
	}
	rep := observer.Reputation(vendorKey)
	if rep.Count != 1 || rep.Mean != 4 || rep.Recent.Count != 1 || rep.Witnessed.Count != 1 || rep.Scores[3] != 1 {
		t.Fatalf("observer's reputation of the vendor: %+v", rep)
	}

	if _, err := customer.ReplyToRating(ctx, rated.Rating.ID, "I am the vendor"); !errors.Is(err, ErrNotYourDeal) {
		t.Fatalf("the customer replying as the vendor: %v, want ErrNotYourDeal", err)
	}
	eventually(t, 10*time.Second, "the vendor holds the rating", func() bool {
		_, err := vendor.Rating(ctx, rated.Rating.ID)
		return err == nil
	})
	if _, err := vendor.ReplyToRating(ctx, rated.Rating.ID, "Thank you!"); err != nil {
		t.Fatal(err)
	}
	if _, err := vendor.ReplyToRating(ctx, rated.Rating.ID, "Thanks again"); !errors.Is(err, ErrReplied) {
		t.Fatalf("a second reply: %v, want ErrReplied", err)
	}
	e = awaitEvent(t, events, "the reply", func(e Event) bool { return e.Kind == EventRatingReply })
	if e.Rating.Reply == nil || e.Rating.Reply.Body.Text != "Thank you!" {
		t.Fatalf("reply event: %+v", e.Rating)
	}
	if rep := observer.Reputation(vendorKey); rep.Replies != 1 {
		t.Fatalf("replies counted: %d, want 1", rep.Replies)
	}
}

// TestRatingForgeries: every forgery a relay can prove is Reject on a real
// node's validator and is never stored; what depends on state (a replay, a
// second rating of one deal) is Ignore.
func TestRatingForgeries(t *testing.T) {
	n := startNode(t, nodeConfig(t))
	ctx := t.Context()
	d := newOfflineDeal(t, testPolicy.MinWork)
	other := newOfflineDeal(t, testPolicy.MinWork)
	unworked := newOfflineDeal(t, 0)

	// The customer's accept with another vendor's offer to its intent: a
	// rating of a vendor it never dealt with.
	wrongVendor := func() []byte {
		rival, err := crypto.GenerateIdentity()
		if err != nil {
			t.Fatal(err)
		}
		_, offer, err := intent.NewOffer(d.in, rival, intent.OfferDraft{Price: 1000, Vendor: intent.Vendor{Name: "Rival"},
			Created: time.Now().Add(-50 * time.Minute), ValidUntil: time.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		rec, err := intent.VerifyDealRecord(d.record, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		raw, err := encodeDealRecord(d.in.Raw, offer.Raw, rec.Accept.Raw)
		if err != nil {
			t.Fatal(err)
		}
		r, err := intent.NewRating(ctx, raw, d.keys.Signing, intent.RatingDraft{Score: 1, Created: time.Now()}, testRatingWork)
		if err != nil {
			t.Fatal(err)
		}
		return r.Raw
	}()
	oversized := func() []byte {
		r := d.rate(t, d.keys.Signing, 5, "", testRatingWork)
		return append(bytes.Clone(r.Raw), make([]byte, intent.MaxRatingSize)...)
	}()
	noWork := func() []byte {
		for {
			// Checked off the node: one that meets the work by luck (1 in
			// 16 at 4 bits) would be kept by checkTrust.
			r := d.rate(t, d.keys.Signing, 3, "lazy", 0)
			if err := r.Validate(time.Now(), n.cfg.Policy); errors.Is(err, intent.ErrInsufficientWork) {
				return r.Raw
			}
		}
	}()
	stranger, err := crypto.GenerateSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	noDeal := func() []byte {
		r, err := intent.NewRating(ctx, []byte{0xa0}, d.keys.Signing, intent.RatingDraft{Score: 3, Created: time.Now()}, testRatingWork)
		if err != nil {
			t.Fatal(err)
		}
		return r.Raw
	}()
	for _, c := range []struct {
		name string
		raw  []byte
		want error
	}{
		{"no deal", noDeal, intent.ErrNoDeal},
		{"wrong vendor", wrongVendor, intent.ErrNoDeal},
		{"wrong key", d.rate(t, stranger, 5, "", testRatingWork).Raw, intent.ErrBadSignature},
		{"vendor's key", d.rate(t, d.vendor.Signing, 5, "", testRatingWork).Raw, intent.ErrBadSignature},
		{"other deal's key", d.rate(t, other.keys.Signing, 5, "", testRatingWork).Raw, intent.ErrBadSignature},
		{"oversize", oversized, intent.ErrTooLarge},
		{"no work", noWork, intent.ErrInsufficientWork},
		{"intent without work", unworked.rate(t, unworked.keys.Signing, 5, "", testRatingWork).Raw, intent.ErrInsufficientWork},
	} {
		_, err := n.checkTrust(ctx, c.raw)
		if !errors.Is(err, c.want) || trustVerdict(err) != pubsub.ValidationReject {
			t.Errorf("%s: %v (%v), want %v and Reject", c.name, err, trustVerdict(err), c.want)
		}
	}
	if list, err := n.store.Ratings(ctx, ""); err != nil || len(list) != 0 {
		t.Fatalf("the node stored %d ratings of forgeries (%v)", len(list), err)
	}

	// Two ratings of one deal, both by its key: the lower ID is kept
	// whatever the order; a replay and the loser are Ignore.
	a, b := d.rate(t, d.keys.Signing, 5, "first", testRatingWork), d.rate(t, d.keys.Signing, 1, "second", testRatingWork)
	low, high := a, b
	if bytes.Compare(a.ID[:], b.ID[:]) > 0 {
		low, high = b, a
	}
	if _, err := n.checkTrust(ctx, high.Raw); err != nil {
		t.Fatal(err)
	}
	if _, err := n.checkTrust(ctx, high.Raw); !errors.Is(err, errReplay) || trustVerdict(err) != pubsub.ValidationIgnore {
		t.Fatalf("a replayed rating: %v, want Ignore (replay)", err)
	}
	if _, err := n.checkTrust(ctx, low.Raw); err != nil {
		t.Fatalf("the lower rating of the deal: %v, want kept", err)
	}
	if _, err := n.checkTrust(ctx, high.Raw); !errors.Is(err, errRatedAlready) || trustVerdict(err) != pubsub.ValidationIgnore {
		t.Fatalf("the higher rating after the lower: %v, want Ignore (rated already)", err)
	}
	list, err := n.store.Ratings(ctx, "")
	if err != nil || len(list) != 1 || list[0].ID != low.ID {
		t.Fatalf("held %d ratings (%v), want only the lower", len(list), err)
	}
	if rep := n.Reputation(d.vendor.Signing.Public()); rep.Count != 1 || rep.Mean != float64(low.Body.Score) || rep.Witnessed.Count != 0 {
		t.Fatalf("reputation after the conflict: %+v", rep)
	}

	// Replies: only the rated vendor's key; to an unknown rating, Ignore.
	lowRec, err := n.Rating(ctx, low.ID)
	if err != nil {
		t.Fatal(err)
	}
	byCustomer, err := intent.NewRatingReply(ctx, lowRec.Rating, d.keys.Signing, "fake", time.Now(), testRatingWork)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.checkTrust(ctx, byCustomer.Raw); !errors.Is(err, intent.ErrWrongVendor) || trustVerdict(err) != pubsub.ValidationReject {
		t.Fatalf("a reply by the customer's key: %v, want Reject (wrong vendor)", err)
	}
	otherRating := other.rate(t, other.keys.Signing, 2, "", testRatingWork)
	orphan, err := intent.NewRatingReply(ctx, otherRating, other.vendor.Signing, "to a rating you lack", time.Now(), testRatingWork)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.checkTrust(ctx, orphan.Raw); !errors.Is(err, errUnknownRating) || trustVerdict(err) != pubsub.ValidationIgnore {
		t.Fatalf("a reply to an unknown rating: %v, want Ignore", err)
	}
}

// TestRatingConflictConverges: two nodes that get a deal's two ratings in
// opposite orders keep the same one.
func TestRatingConflictConverges(t *testing.T) {
	n1, n2 := startNode(t, nodeConfig(t)), startNode(t, nodeConfig(t))
	d := newOfflineDeal(t, testPolicy.MinWork)
	a, b := d.rate(t, d.keys.Signing, 5, "a", testRatingWork), d.rate(t, d.keys.Signing, 2, "b", testRatingWork)
	for _, step := range []struct {
		n   *Node
		raw []byte
	}{{n1, a.Raw}, {n1, b.Raw}, {n2, b.Raw}, {n2, a.Raw}} {
		_, err := step.n.checkTrust(t.Context(), step.raw)
		if err != nil && trustVerdict(err) != pubsub.ValidationIgnore {
			t.Fatalf("a valid rating: %v", err)
		}
	}
	r1, err1 := n1.RatingOf(t.Context(), d.in.ID)
	r2, err2 := n2.RatingOf(t.Context(), d.in.ID)
	if err1 != nil || err2 != nil || r1.Rating.ID != r2.Rating.ID {
		t.Fatalf("the nodes hold different ratings of one deal: %v %v", err1, err2)
	}
}

// TestRatingsPenaliseSender: forgeries sent by gossip graylist their
// sender and nothing is stored.
func TestRatingsPenaliseSender(t *testing.T) {
	board := &scoreBoard{}
	hcfg := nodeConfig(t)
	hcfg.OnPeerScores = board.update
	honest := startNode(t, hcfg)
	cfg := testConfig(t)
	cfg.Bootstrap = addrsOf(honest)
	attacker := startTest(t, cfg, nil)
	tp, _ := join(t, attacker, intent.RatingsTopic)
	d := newOfflineDeal(t, testPolicy.MinWork)
	stranger, err := crypto.GenerateSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	publish(t, attacker, tp, d.rate(t, stranger, 5, "forged", testRatingWork).Raw, 1)
	publish(t, attacker, tp, d.rate(t, d.vendor.Signing, 5, "self-praise", testRatingWork).Raw, 1)
	eventually(t, 10*time.Second, "the attacker is graylisted", func() bool {
		s, ok := board.get(attacker.ID())
		return ok && s < graylistThreshold
	})
	if list, err := honest.store.Ratings(t.Context(), ""); err != nil || len(list) != 0 {
		t.Fatalf("honest node stored %d ratings from the attacker (%v)", len(list), err)
	}
}

// TestRatingBounds: a full bound evicts (docs/PROTOCOL.md, "What a node
// keeps of ratings"). Past the per-vendor bound a newer rating of the
// vendor takes the place of its oldest, and one older than all it holds is
// Ignore; past the bound in all, a rating of another vendor takes the
// place of the most-rated vendor's oldest. The store holds what the book
// holds.
func TestRatingBounds(t *testing.T) {
	cfg := nodeConfig(t)
	cfg.RatingLimits = RatingLimits{PerVendor: 2, Total: 3}
	n := startNode(t, cfg)
	ctx := t.Context()
	now := time.Now()
	// rate makes a rating, created at, of a new deal with vendor.
	rate := func(vendor crypto.Identity, score uint, at time.Time) *intent.SignedRating {
		t.Helper()
		d := newOfflineDeal(t, testPolicy.MinWork)
		d.vendor = vendor
		d = rebindDeal(t, d)
		r, err := intent.NewRating(ctx, d.record, d.keys.Signing, intent.RatingDraft{Score: score, Created: at}, testRatingWork)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	keep := func(what string, r *intent.SignedRating) {
		t.Helper()
		if _, err := n.checkTrust(ctx, r.Raw); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	vendor := func() crypto.Identity {
		id, err := crypto.GenerateIdentity()
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	a, b, c := vendor(), vendor(), vendor()
	a1 := rate(a, 1, now.Add(-30*time.Minute))
	keep("a first rating of A", a1)
	a2 := rate(a, 2, now.Add(-20*time.Minute))
	keep("a second rating of A", a2)
	a3 := rate(a, 3, now.Add(-10*time.Minute))
	keep("a third rating of A, past its bound of 2", a3)
	if rep := n.Reputation(a.Signing.Public()); rep.Count != 2 || rep.Mean != 2.5 {
		t.Fatalf("A's reputation: %d ratings, mean %v; want A's oldest evicted (2, 2.5)", rep.Count, rep.Mean)
	}
	_, err := n.checkTrust(ctx, rate(a, 5, now.Add(-35*time.Minute)).Raw)
	if !errors.Is(err, errRatingsFull) || trustVerdict(err) != pubsub.ValidationIgnore {
		t.Fatalf("a rating of A older than all A's held: %v, want Ignore", err)
	}
	b1 := rate(b, 4, now.Add(-5*time.Minute))
	keep("a rating of B, the third in all", b1)
	c1 := rate(c, 5, now.Add(-4*time.Minute))
	keep("a rating of C, past the bound of 3 in all", c1)
	if rep := n.Reputation(a.Signing.Public()); rep.Count != 1 || rep.Mean != 3 {
		t.Fatalf("A's reputation: %d ratings, mean %v; want A's oldest evicted for C's (1, 3)", rep.Count, rep.Mean)
	}
	list, err := n.store.Ratings(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	held := map[intent.ID]bool{}
	for _, r := range list {
		held[r.ID] = true
	}
	if len(list) != 3 || !held[a3.ID] || !held[b1.ID] || !held[c1.ID] {
		t.Fatalf("the store holds %d ratings, want a3, b1 and c1", len(list))
	}
}

// rebindDeal remakes d's offer and accept with d.vendor.
func rebindDeal(t *testing.T, d offlineDeal) offlineDeal {
	t.Helper()
	now := time.Now()
	sealed, offer, err := intent.NewOffer(d.in, d.vendor, intent.OfferDraft{Price: 5000, Vendor: intent.Vendor{Name: "Acme"},
		Created: now.Add(-50 * time.Minute), ValidUntil: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	accept, err := intent.NewAccept(d.in, d.keys, sealed.ID, offer, nil, now.Add(-40*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := intent.NewDealRecord(d.in.Raw, offer.Raw, accept.Raw, now)
	if err != nil {
		t.Fatal(err)
	}
	d.record = rec.Raw
	return d
}

// TestRatingsLateJoiner: a node that was not there when a rating, its
// reply and the vendor's profile were published gets all three by sync,
// and computes the same reputation; after a restart the node still holds
// them.
func TestRatingsLateJoiner(t *testing.T) {
	early := startNode(t, nodeConfig(t))
	ctx := t.Context()
	d := newOfflineDeal(t, testPolicy.MinWork)
	r := d.rate(t, d.keys.Signing, 4, "good", testRatingWork)
	if _, err := early.checkTrust(ctx, r.Raw); err != nil {
		t.Fatal(err)
	}
	rep, err := intent.NewRatingReply(ctx, r, d.vendor.Signing, "thanks", time.Now(), testRatingWork)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := early.checkTrust(ctx, rep.Raw); err != nil {
		t.Fatal(err)
	}
	prof, err := intent.NewVendorProfile(ctx, d.vendor.Signing, intent.ProfileDraft{Name: "Acme", Created: time.Now()}, testRatingWork)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := early.checkTrust(ctx, prof.Raw); err != nil {
		t.Fatal(err)
	}

	cfg := nodeConfig(t)
	cfg.Bootstrap = addrsOf(early)
	late := startNode(t, cfg)
	key := d.vendor.Signing.Public()
	eventually(t, 20*time.Second, "the late joiner has the rating, its reply and the vendor's profile", func() bool {
		rep := late.Reputation(key)
		return rep.Count == 1 && rep.Replies == 1 && rep.Profile != nil && rep.Profile.ID == prof.ID
	})
	got, err := late.RatingOf(ctx, d.in.ID)
	if err != nil || got.Rating.ID != r.ID || got.Reply == nil || got.Reply.ID != rep.ID {
		t.Fatalf("late joiner's rating of the deal: %+v, %v", got, err)
	}

	// Restart: the book is rebuilt from the store.
	dir := late.cfg.DataDir
	if err := late.Close(); err != nil {
		t.Fatal(err)
	}
	cfg2 := nodeConfig(t)
	cfg2.DataDir = dir
	again := startNode(t, cfg2)
	if rep := again.Reputation(key); rep.Count != 1 || rep.Replies != 1 || rep.Mean != 4 {
		t.Fatalf("after a restart: %+v", rep)
	}
}

// encodeDealRecord encodes a deal record as given, without verifying it:
// what a forger can put in a rating.
func encodeDealRecord(intentRaw, offerRaw, acceptRaw []byte) ([]byte, error) {
	em, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		return nil, err
	}
	return em.Marshal(map[int]any{0: intent.Version, 1: intentRaw, 2: offerRaw, 3: acceptRaw})
}
