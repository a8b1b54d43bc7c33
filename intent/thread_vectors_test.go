package intent_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/intentcast/intentcast/crypto"
	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/intent/internal/vectors"
)

// TestThreadVectors checks every negotiation thread vector as its
// receiver does: a sealed one through a relay's checks, then opened with
// the key it names; every one against the thread of the vectors it comes
// after, whose root is the valid sealed offer's vendor-signed offer.
func TestThreadVectors(t *testing.T) {
	set := loadVectors(t)
	if len(set.Threads) < 10 {
		t.Fatalf("%d thread vectors", len(set.Threads))
	}
	in, err := intent.ParseIntent(set.Vector("intent").Wire)
	if err != nil {
		t.Fatal(err)
	}
	root, err := intent.ParseOffer(set.Offer.Inner)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]crypto.ReplyKey{
		"vendor_reply_private": replyKey(t, set.Keys.VendorReplySuite, set.Keys.VendorReplyPrivate),
		"intent_reply_private": replyKey(t, set.Keys.IntentReplySuite, set.Keys.IntentReplyPrivate),
	}
	plains := map[string][]byte{}
	for _, v := range set.Threads {
		plains[v.Name] = v.Wire
		if v.Sealed {
			plains[v.Name] = v.Plain
		}
	}
	for _, v := range set.Threads {
		t.Run(v.Name, func(t *testing.T) {
			switch v.Name {
			case "thread-accept", "thread-deal-record":
				checkThreadAccept(t, set, in, v)
				return
			}
			err := threadVerdict(t, set, in, root, keys, plains, v)
			if v.Error == "" {
				if err != nil {
					t.Fatalf("valid vector refused: %v", err)
				}
				return
			}
			want, ok := vectors.Codes[v.Error]
			if !ok {
				want, ok = vectors.ThreadCodes[v.Error]
			}
			if !ok {
				t.Fatalf("unknown error code %q", v.Error)
			}
			if !errors.Is(err, want) {
				t.Fatalf("got %v, want %s (%v)", err, v.Error, want)
			}
		})
	}
}

func threadVerdict(t *testing.T, set *vectors.Set, in *intent.SignedIntent, root *intent.SignedOffer,
	keys map[string]crypto.ReplyKey, plains map[string][]byte, v vectors.ThreadVec) error {
	th, err := intent.NewThread(in, root)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range v.After {
		m, err := intent.ParseThreadMessage(plains[name])
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := th.Append(m, set.Time(), set.Policy()); err != nil {
			t.Fatalf("the thread does not hold %s: %v", name, err)
		}
	}
	raw := v.Wire
	if v.Sealed {
		m, err := intent.Parse(v.Wire)
		if err != nil {
			return err
		}
		if err := intent.CheckTopic(m, in.Body.Category, true); err != nil {
			return err
		}
		s, ok := m.(*intent.SealedThread)
		if !ok {
			t.Fatalf("a sealed thread vector parsed as %T", m)
		}
		if s.ID.String() != v.ID || s.IntentID != in.ID {
			t.Fatalf("ID %s for intent %s; the vector says %s for %s", s.ID, s.IntentID.Short(), v.ID, in.ID.Short())
		}
		if err := s.CheckWork(set.Policy()); err != nil {
			return err
		}
		opened, err := intent.OpenThread(s, keys[v.OpensWith])
		if err != nil {
			t.Fatalf("does not open with %s: %v", v.OpensWith, err)
		}
		if !bytes.Equal(opened.Raw, v.Plain) {
			t.Fatal("opens to other bytes than the vector's plain")
		}
		raw = opened.Raw
	} else if intent.IDOf(v.Wire).String() != v.ID {
		t.Fatalf("id %s, the vector says %s", intent.IDOf(v.Wire), v.ID)
	}
	m, err := intent.ParseThreadMessage(raw)
	if err != nil {
		return err
	}
	return th.Check(m, set.Time(), set.Policy())
}

// checkThreadAccept: the accept of the revised offer validates as any
// accept, names the reply's ID, and its deal record verifies.
func checkThreadAccept(t *testing.T, set *vectors.Set, in *intent.SignedIntent, v vectors.ThreadVec) {
	var reply, accept vectors.ThreadVec
	for _, w := range set.Threads {
		switch w.Name {
		case "thread-reply":
			reply = w
		case "thread-accept":
			accept = w
		}
	}
	a, err := intent.ParseAccept(accept.Wire)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Validate(in, set.Time(), set.Policy()); err != nil {
		t.Fatal(err)
	}
	if a.OfferID.String() != reply.ID {
		t.Fatalf("the accept names %s, not thread-reply %s", a.OfferID, reply.ID)
	}
	if v.Name != "thread-deal-record" {
		return
	}
	d, err := intent.VerifyDealRecord(v.Wire, set.Time())
	if err != nil {
		t.Fatalf("the deal record of a revised offer: %v", err)
	}
	m, err := intent.ParseThreadMessage(reply.Plain)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(d.Offer.Raw, m.Offer.Raw) || d.Offer.Body.Price != 96000 {
		t.Fatal("the record does not hold the revised offer")
	}
}
