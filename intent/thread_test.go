package intent

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/intentcast/intentcast/crypto"
)

// threadFixture is a customer's intent, a vendor's root offer to it and
// the thread each side holds.
type threadFixture struct {
	in       *SignedIntent
	keys     Keys
	vendor   crypto.Identity
	sealed   *SealedOffer
	customer *Thread // the customer's copy
	seller   *Thread // the vendor's copy
}

func newThreadFixture(t *testing.T) *threadFixture {
	t.Helper()
	in, keys := newTestIntent(t, nil)
	f := &threadFixture{in: in, keys: keys, vendor: testVendor(t)}
	sealed, signed, err := NewOffer(in, f.vendor, testOfferDraft())
	if err != nil {
		t.Fatal(err)
	}
	f.sealed = sealed
	opened, err := OpenOffer(sealed, in, keys.Reply, t0)
	if err != nil {
		t.Fatal(err)
	}
	if f.customer, err = NewThread(in, opened); err != nil {
		t.Fatal(err)
	}
	if f.seller, err = NewThread(in, signed); err != nil {
		t.Fatal(err)
	}
	return f
}

// counter has the customer send a counter and the vendor receive it.
func (f *threadFixture) counter(t *testing.T, d CounterDraft, at time.Time) *ThreadMessage {
	t.Helper()
	s, mine, err := NewCounter(f.customer, f.keys, d, at)
	_, got := f.pass(t, s, mine, err, f.customer, f.seller, f.vendor.Reply, at)
	return got
}

// reply has the vendor answer and the customer receive it.
func (f *threadFixture) reply(t *testing.T, d ReplyDraft, at time.Time) (*SealedThread, *ThreadMessage) {
	t.Helper()
	s, mine, err := NewThreadReply(f.seller, f.vendor, d, at)
	return f.pass(t, s, mine, err, f.seller, f.customer, f.keys.Reply, at)
}

// pass appends a message just made to its sender's thread, and carries it
// to the receiver, who opens it with k and appends it.
func (f *threadFixture) pass(t *testing.T, s *SealedThread, mine *ThreadMessage, err error, from, to *Thread, k crypto.ReplyKey, at time.Time) (*SealedThread, *ThreadMessage) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	from.Messages = append(from.Messages, mine)
	got := f.open(t, s, k)
	if err := to.Append(got, at, testPolicy); err != nil {
		t.Fatalf("the receiver refuses a well-made message: %v", err)
	}
	return s, got
}

// open parses a sealed message as a relay would (work included), and
// opens it as its recipient.
func (f *threadFixture) open(t *testing.T, s *SealedThread, k crypto.ReplyKey) *ThreadMessage {
	t.Helper()
	if err := s.Mint(context.Background(), 4); err != nil {
		t.Fatal(err)
	}
	m, err := Parse(s.Raw)
	if err != nil {
		t.Fatal(err)
	}
	relayed, ok := m.(*SealedThread)
	if !ok {
		t.Fatalf("Parse gave %T, want *SealedThread", m)
	}
	if relayed.ID != s.ID || relayed.IntentID != f.in.ID {
		t.Fatal("the relayed envelope names another message or intent")
	}
	if err := CheckTopic(m, "electronics", true); err != nil {
		t.Fatal(err)
	}
	if err := relayed.CheckWork(Policy{MinOfferWork: 4}); err != nil {
		t.Fatal(err)
	}
	got, err := OpenThread(relayed, k)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestThreadRoundTrip: counter, revised offer, accept of the revised
// offer; the deal record of that accept verifies.
func TestThreadRoundTrip(t *testing.T) {
	f := newThreadFixture(t)
	c := f.counter(t, CounterDraft{Price: 95000, Text: "Would you do 950 with a sleeve?",
		Terms: Terms{Custom: map[string]string{"warranty": "2 years"}}}, t0.Add(2*time.Minute))
	if c.Counter == nil || c.Counter.Price != 95000 || c.Counter.Terms.Custom["warranty"] != "2 years" || c.Seq() != 1 {
		t.Fatalf("the vendor reads another counter: %+v", c.Counter)
	}
	revised := testOfferDraft()
	revised.Price, revised.Text, revised.Created = 96000, "960 with a sleeve", t0.Add(3*time.Minute)
	s, r := f.reply(t, ReplyDraft{Offer: &revised, Text: "Meet you at 960."}, t0.Add(3*time.Minute))
	if r.Offer == nil || r.Offer.Body.Price != 96000 || r.Seq() != 2 {
		t.Fatal("the customer does not read the revised offer")
	}
	a, err := NewAccept(f.in, f.keys, s.ID, r.Offer, []byte("Packstation 1"), t0.Add(4*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewDealRecord(f.in.Raw, r.Offer.Raw, a.Raw, t0.Add(5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyDealRecord(d.Raw, t0.Add(5*time.Minute)); err != nil {
		t.Fatalf("the deal of a revised offer does not verify: %v", err)
	}
}

// TestThreadRules: every forgery or break of the chain fails with its
// error, checked by the party that opens it.
func TestThreadRules(t *testing.T) {
	at := t0.Add(2 * time.Minute)
	sign := func(t *testing.T, k crypto.SigningKey, ct string, body any) *ThreadMessage {
		t.Helper()
		p, err := marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		m, err := ParseThreadMessage(signPayload(t, p, k, ct))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	counterBody := func(f *threadFixture) Counter {
		last := f.seller.Last()
		return Counter{Version: Version, IntentID: f.in.ID[:], Thread: idBytes(f.seller.ID()), Seq: f.seller.Next(),
			Prev: last[:], Created: at.Unix(), Text: "any discount?"}
	}
	cases := []struct {
		name string
		msg  func(*testing.T, *threadFixture) *ThreadMessage
		want error
	}{
		{"counter signed by the wrong key", func(t *testing.T, f *threadFixture) *ThreadMessage {
			_, other := newTestIntent(t, nil) // another intent's key
			return sign(t, other.Signing, ContentCounter, counterBody(f))
		}, ErrBadSignature},
		{"reply signed by another vendor", func(t *testing.T, f *threadFixture) *ThreadMessage {
			f.counter(t, CounterDraft{Text: "hi"}, at)
			last := f.seller.Last()
			return sign(t, testVendor(t).Signing, ContentThreadReply, ThreadReply{Version: Version, IntentID: f.in.ID[:],
				Thread: idBytes(f.seller.ID()), Seq: 2, Prev: last[:], Created: at.Unix(), Text: "not me"})
		}, ErrBadSignature},
		{"not chained", func(t *testing.T, f *threadFixture) *ThreadMessage {
			b := counterBody(f)
			b.Prev = make([]byte, 32)
			return sign(t, f.keys.Signing, ContentCounter, b)
		}, ErrNotChained},
		{"gap", func(t *testing.T, f *threadFixture) *ThreadMessage {
			b := counterBody(f)
			b.Seq = 3
			return sign(t, f.keys.Signing, ContentCounter, b)
		}, ErrNotChained},
		{"fork", func(t *testing.T, f *threadFixture) *ThreadMessage {
			b := counterBody(f)
			f.counter(t, CounterDraft{Text: "first"}, at)
			b.Text = "second"
			return sign(t, f.keys.Signing, ContentCounter, b)
		}, ErrNotChained},
		{"replay", func(t *testing.T, f *threadFixture) *ThreadMessage {
			return f.counter(t, CounterDraft{Text: "again"}, at)
		}, ErrThreadReplay},
		{"another thread", func(t *testing.T, f *threadFixture) *ThreadMessage {
			b := counterBody(f)
			b.Thread = make([]byte, 32)
			return sign(t, f.keys.Signing, ContentCounter, b)
		}, ErrWrongThread},
		{"after the intent expired", func(t *testing.T, f *threadFixture) *ThreadMessage {
			b := counterBody(f)
			b.Created = f.in.Body.Expires + 3600
			return sign(t, f.keys.Signing, ContentCounter, b)
		}, ErrFromFuture},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newThreadFixture(t)
			m := c.msg(t, f)
			if err := f.seller.Check(m, at, testPolicy); !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

// TestThreadSchema: what ParseThreadMessage refuses before any thread is
// looked at.
func TestThreadSchema(t *testing.T) {
	f := newThreadFixture(t)
	last := f.seller.Last()
	base := Counter{Version: Version, IntentID: f.in.ID[:], Thread: idBytes(f.seller.ID()), Seq: 1, Prev: last[:], Created: t0.Unix(), Text: "?"}
	cases := []struct {
		name   string
		change func(*Counter)
		ct     string
		want   error
	}{
		{"round limit", func(c *Counter) { c.Seq = MaxThreadMessages + 1 }, ContentCounter, ErrSchema},
		{"vendor's turn", func(c *Counter) { c.Seq = 2 }, ContentCounter, ErrSchema},
		{"oversize text", func(c *Counter) { c.Text = strings.Repeat("x", MaxText+1) }, ContentCounter, ErrSchema},
		{"says nothing", func(c *Counter) { c.Text = "" }, ContentCounter, ErrSchema},
		{"empty terms present", func(c *Counter) { c.Terms = &Terms{} }, ContentCounter, ErrSchema},
		{"short prev", func(c *Counter) { c.Prev = c.Prev[:31] }, ContentCounter, ErrSchema},
		{"a counter signed as a reply", func(*Counter) {}, ContentThreadReply, ErrMalformed},
		{"another content type", func(*Counter) {}, ContentAccept, ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := base
			c.change(&b)
			p, err := marshal(b)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ParseThreadMessage(signPayload(t, p, f.keys.Signing, c.ct)); !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

// TestThreadFull: the ninth message cannot be made, and the thread's eight
// alternate between the parties.
func TestThreadFull(t *testing.T) {
	f := newThreadFixture(t)
	at := t0.Add(2 * time.Minute)
	for i := range MaxThreadMessages / 2 {
		f.counter(t, CounterDraft{Price: uint64(90000 + i)}, at)
		f.reply(t, ReplyDraft{Text: "no"}, at)
	}
	if _, _, err := NewCounter(f.customer, f.keys, CounterDraft{Text: "one more?"}, at); !errors.Is(err, ErrThreadFull) {
		t.Fatalf("got %v, want ErrThreadFull", err)
	}
	if _, _, err := NewThreadReply(f.seller, f.vendor, ReplyDraft{Text: "one more"}, at); !errors.Is(err, ErrThreadFull) {
		t.Fatalf("got %v, want ErrThreadFull", err)
	}
}

// TestThreadSealing: a counter opens only with the vendor's reply key, a
// reply only with the intent's; a relay holding neither reads nothing,
// and the plaintext is not in the envelope.
func TestThreadSealing(t *testing.T) {
	f := newThreadFixture(t)
	at := t0.Add(2 * time.Minute)
	const secret = "my street is Hauptstrasse 1"
	s, _, err := NewCounter(f.customer, f.keys, CounterDraft{Text: secret}, at)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(s.Raw, []byte(secret)) || bytes.Contains(s.Raw, f.in.Body.SigningKey) {
		t.Fatal("the envelope shows the counter")
	}
	if _, err := OpenThread(s, f.keys.Reply); !errors.Is(err, ErrSealed) {
		t.Fatalf("the intent's own reply key opens a counter: %v", err)
	}
	relay, err := crypto.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenThread(s, relay.Reply); !errors.Is(err, ErrSealed) {
		t.Fatalf("a relay's key opens a counter: %v", err)
	}
	if _, err := OpenThread(s, f.vendor.Reply); err != nil {
		t.Fatal(err)
	}
	// A sealed offer is not a sealed thread message, nor the reverse.
	if _, err := ParseSealedThread(f.sealed.Raw); !errors.Is(err, ErrMalformed) {
		t.Fatalf("a sealed offer parses as a thread message: %v", err)
	}
	if _, err := ParseSealedOffer(s.Raw); !errors.Is(err, ErrMalformed) {
		t.Fatalf("a thread message parses as a sealed offer: %v", err)
	}
}

// TestThreadRevisedOfferChecks: a revised offer must be one the customer
// could accept, from the root's vendor.
func TestThreadRevisedOfferChecks(t *testing.T) {
	at := t0.Add(2 * time.Minute)
	f := newThreadFixture(t)
	f.counter(t, CounterDraft{Text: "cheaper?"}, at)
	over := testOfferDraft()
	over.Price = f.in.Body.Want.MaxPrice + 1
	if _, _, err := NewThreadReply(f.seller, f.vendor, ReplyDraft{Offer: &over}, at); !errors.Is(err, ErrOverCeiling) {
		t.Fatalf("the vendor makes a revised offer over the ceiling: %v", err)
	}
	// One made by hand: the customer refuses it all the same.
	o, err := signOffer(f.in, f.vendor, over)
	if err != nil {
		t.Fatal(err)
	}
	last := f.customer.Last()
	p, err := marshal(ThreadReply{Version: Version, IntentID: f.in.ID[:], Thread: idBytes(f.customer.ID()), Seq: 2,
		Prev: last[:], Created: at.Unix(), Offer: o.Raw})
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseThreadMessage(signPayload(t, p, f.vendor.Signing, ContentThreadReply))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.customer.Check(m, at, testPolicy); !errors.Is(err, ErrOverCeiling) {
		t.Fatalf("got %v, want ErrOverCeiling", err)
	}
	if _, _, err := NewThreadReply(f.seller, testVendor(t), ReplyDraft{Text: "me too"}, at); !errors.Is(err, ErrWrongThread) {
		t.Fatalf("another identity replies: %v", err)
	}
}
