package vectors

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/intentcast/intentcast/crypto"
	"github.com/intentcast/intentcast/intent"
)

// The markers around the generated thread vectors in docs/PROTOCOL.md
// (section Negotiation threads).
const (
	ThreadBeginMarker = "<!-- thread-vectors:begin -->"
	ThreadEndMarker   = "<!-- thread-vectors:end -->"
)

// The times of the thread's messages, between the offer and the accept.
var (
	counterCreated = now.Add(-4 * time.Minute)
	replyCreated   = now.Add(-3 * time.Minute)
	revisedAccept  = now.Add(-2 * time.Minute)
)

// ThreadVec is one negotiation thread vector. A sealed one is checked as a
// relay checks it (envelope and work on an offers topic), opened with the
// key OpensWith names, and its plaintext checked against the thread; a
// plain one (a signed message, as it is inside the seal) only against the
// thread. The thread is the valid sealed offer's vendor-signed offer
// (opened_offer.inner) followed by the plaintexts of the vectors After
// names, in order.
type ThreadVec struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Sealed      bool     `json:"sealed,omitempty"`
	OpensWith   string   `json:"opens_with,omitempty"` // "vendor_reply_private" or "intent_reply_private"
	After       []string `json:"after,omitempty"`
	// Error is the code of the first check that fails (docs/PROTOCOL.md,
	// "Checking a thread message"); empty when valid.
	Error string `json:"error,omitempty"`
	ID    string `json:"id"` // the sealed message's ID (its unprotected header emptied) if Sealed, else SHA-256 of Wire
	Wire  Hex    `json:"wire"`
	Plain Hex    `json:"plain,omitempty"` // what a sealed one opens to
}

// ThreadCodes are the error codes only thread vectors use.
var ThreadCodes = map[string]error{
	"not-chained":   intent.ErrNotChained,
	"thread-replay": intent.ErrThreadReplay,
	"wrong-thread":  intent.ErrWrongThread,
}

// threads adds the thread vectors: a counter and a revised offer (both
// sealed, frozen), the accept of that revised offer and its deal record,
// and messages that each break one rule. It runs after offerAndAccept.
func (g *generator) threads(in *intent.SignedIntent) error {
	root, err := intent.ParseOffer(g.set.Offer.Inner)
	if err != nil {
		return fmt.Errorf("threads: %w", err)
	}
	vendor := crypto.Identity{Signing: g.vendorKey, Reply: g.vendorReply}
	keys := intent.Keys{Signing: g.intentKey, Reply: g.intentReply}

	// The vendor's copy, to which the counter is appended.
	t, err := intent.NewThread(in, root)
	if err != nil {
		return err
	}
	cd := intent.CounterDraft{Price: 95000, Text: "Would you do 950 EUR with a sleeve?",
		Terms: intent.Terms{Custom: map[string]string{"warranty": "2 years"}}}
	fresh, counter, err := intent.NewCounter(t, keys, cd, counterCreated)
	if err != nil {
		return err
	}
	sealedCounter := g.frozenThread(g.frozen.SealedCounter, counter.Raw, g.vendorReply, fresh)
	if err := t.Append(counter, now, g.set.Policy()); err != nil {
		return err
	}
	revised := intent.OfferDraft{Price: 96000, Text: "960 EUR with a sleeve", Vendor: root.Body.Vendor,
		Created: replyCreated, ValidUntil: replyCreated.Add(48 * time.Hour)}
	fresh, reply, err := intent.NewThreadReply(t, vendor, intent.ReplyDraft{Offer: &revised, Text: "Meet you at 960."}, replyCreated)
	if err != nil {
		return err
	}
	sealedReply := g.frozenThread(g.frozen.SealedReply, reply.Raw, g.intentReply, fresh)
	g.frozen.SealedCounter, g.frozen.SealedReply = sealedCounter.Raw, sealedReply.Raw

	g.addThread(ThreadVec{Name: "thread-counter", Sealed: true, OpensWith: "vendor_reply_private", Wire: sealedCounter.Raw, Plain: counter.Raw,
		Description: fmt.Sprintf("The customer's first counter to sealed-offer (seq 1, prev = thread = the offer hash of opened_offer.inner): "+
			"price 95000, a custom term, a question; signed with the intent's key, sealed to the offer's vendor reply key, %d bits of work.", sealedCounter.Work())})
	g.addThread(ThreadVec{Name: "thread-reply", Sealed: true, OpensWith: "intent_reply_private", After: []string{"thread-counter"},
		Wire: sealedReply.Raw, Plain: reply.Raw,
		Description: fmt.Sprintf("The vendor's reply (seq 2, prev = SHA-256 of thread-counter's plain) with a revised offer at 96000; "+
			"signed with the vendor's key, sealed to the intent's reply key, %d bits of work. Its ID is the offer ID an accept of the revised offer names.", sealedReply.Work())})

	unworked, err := intent.ParseSealedThread(bytes.Clone(sealedCounter.Raw))
	if err != nil {
		return err
	}
	for bits := 0; unworked.Work() >= minOfferWork || bits == 0; bits++ {
		if err := unworked.Mint(context.Background(), bits); err != nil {
			return err
		}
	}
	g.addThread(ThreadVec{Name: "thread-insufficient-work", Sealed: true, OpensWith: "vendor_reply_private", Error: "insufficient-work",
		Wire: unworked.Raw, Plain: counter.Raw,
		Description: fmt.Sprintf("thread-counter with another nonce, which gives it only %d bits of work: a relay Rejects it.", unworked.Work())})

	if err := g.threadAccept(in, sealedReply.ID, reply); err != nil {
		return err
	}
	return g.badThreadMessages(in, t, root, counter)
}

// threadAccept adds the accept of the revised offer, and its deal record.
func (g *generator) threadAccept(in *intent.SignedIntent, replyID intent.ID, reply *intent.ThreadMessage) error {
	oh := intent.OfferHash(reply.Offer.Raw)
	raw, err := g.signAccept(intent.Accept{Version: intent.Version, IntentID: in.ID[:], OfferID: replyID[:],
		Created: revisedAccept.Unix(), OfferHash: oh[:]}, g.intentKey)
	if err != nil {
		return err
	}
	g.addThread(ThreadVec{Name: "thread-accept", Wire: raw,
		Description: "An accept of thread-reply's revised offer: key 2 is thread-reply's ID, key 5 the SHA-256 of the revised offer " +
			"(key 6 of thread-reply's plain). It validates as an accept of the intent vector on its offers topic."})
	rec, err := encode(dealRecord{Version: intent.Version, Intent: in.Raw, Offer: reply.Offer.Raw, Accept: raw})
	if err != nil {
		return err
	}
	g.addThread(ThreadVec{Name: "thread-deal-record", Wire: rec,
		Description: "The deal record of thread-accept: the intent vector, the revised offer and thread-accept. It verifies."})
	return nil
}

// badThreadMessages adds signed messages that each break one rule of the
// thread holding thread-counter (or nothing, for the counters at seq 1).
func (g *generator) badThreadMessages(in *intent.SignedIntent, t *intent.Thread, root *intent.SignedOffer, counter *intent.ThreadMessage) error {
	th := intent.OfferHash(root.Raw)
	first := func() intent.Counter {
		return intent.Counter{Version: intent.Version, IntentID: in.ID[:], Thread: th[:], Seq: 1, Prev: th[:],
			Created: counterCreated.Unix(), Text: "Any discount?"}
	}
	other, err := crypto.SigningKeyFromSeed(fixedKey("other-vendor-signing"))
	if err != nil {
		return err
	}
	type bad struct {
		name, code, desc string
		key              crypto.SigningKey
		ct               string
		body             any
		after            []string
	}
	c := first()
	wrongPrev := first()
	wrongPrev.Prev = make([]byte, 32)
	nine := first()
	nine.Seq = intent.MaxThreadMessages + 1
	long := first()
	long.Text = strings.Repeat("?", intent.MaxText+1)
	elsewhere := first()
	elsewhere.Thread = make([]byte, 32)
	reply := intent.ThreadReply{Version: intent.Version, IntentID: in.ID[:], Thread: th[:], Seq: 2, Prev: bytes.Clone(counter.Hash[:]),
		Created: replyCreated.Unix(), Text: "Not the vendor."}
	cases := []bad{
		{"thread-counter-wrong-key", "bad-signature", "A counter at seq 1 signed with the vendor's key instead of the intent's.",
			g.vendorKey, intent.ContentCounter, c, nil},
		{"thread-counter-not-chained", "not-chained", "A counter at seq 1 whose prev is 32 zero bytes, not the thread's offer hash.",
			g.intentKey, intent.ContentCounter, wrongPrev, nil},
		{"thread-counter-round-limit", "schema", "A counter at seq 9: a thread holds 8 messages after its offer.",
			g.intentKey, intent.ContentCounter, nine, nil},
		{"thread-counter-oversize", "schema", "A counter whose text is 1025 bytes, one over the bound.",
			g.intentKey, intent.ContentCounter, long, nil},
		{"thread-counter-other-thread", "wrong-thread", "A counter naming a thread (key 2) that is not the hash of the offer it is checked against.",
			g.intentKey, intent.ContentCounter, elsewhere, nil},
		{"thread-reply-other-vendor", "bad-signature", "A reply at seq 2, well chained after thread-counter, signed by a key other than the offer's vendor key.",
			other, intent.ContentThreadReply, reply, []string{"thread-counter"}},
	}
	for _, b := range cases {
		p, err := encode(b.body)
		if err != nil {
			return err
		}
		raw, err := sign(b.key, b.ct, p)
		if err != nil {
			return err
		}
		g.addThread(ThreadVec{Name: b.name, Error: b.code, After: b.after, Wire: raw, Description: b.desc})
	}
	g.addThread(ThreadVec{Name: "thread-counter-replay", Error: "thread-replay", After: []string{"thread-counter"}, Wire: counter.Raw,
		Description: "thread-counter's plain again, to a thread that holds it (for instance sealed anew, so with another envelope ID)."})
	return nil
}

// frozenThread returns the frozen sealed message if it opens, with k, to
// exactly plain; otherwise fresh, minted, and the set is marked resealed.
func (g *generator) frozenThread(frozen []byte, plain []byte, k crypto.ReplyKey, fresh *intent.SealedThread) *intent.SealedThread {
	if s, err := intent.ParseSealedThread(frozen); err == nil {
		if m, err := intent.OpenThread(s, k); err == nil && bytes.Equal(m.Raw, plain) {
			return s
		}
	}
	g.set.Resealed = true
	if err := fresh.Mint(context.Background(), minOfferWork); err != nil {
		panic(err) // a background context does not end
	}
	return fresh
}

func (g *generator) addThread(v ThreadVec) {
	if v.Sealed {
		s, err := intent.ParseSealedThread(v.Wire)
		if err == nil {
			v.ID = s.ID.String()
		}
	} else {
		v.ID = intent.IDOf(v.Wire).String()
	}
	g.set.Threads = append(g.set.Threads, v)
}

// ThreadMarkdown renders the thread vectors for docs/PROTOCOL.md: the text
// between the thread markers.
func (s *Set) ThreadMarkdown() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("\n<!-- Generated by `go run ./intent/internal/vectors/cmd/genvectors`: do not edit by hand. -->\n\n")
	w("In [`intent/testdata/vectors.json`](../intent/testdata/vectors.json) under `threads`, checked by\n")
	w("`intent/thread_vectors_test.go` at now = %d with the keys of the [test vectors](#keys). The thread's root\n", s.Now)
	w("is the vendor-signed offer inside `sealed-offer` (`opened_offer.inner`). Sealed vectors are HPKE output,\n")
	w("made once and frozen: check them by opening them, not by sealing again.\n\n")
	w("| vector | sealed | after | result | bytes |\n|---|---|---|---|---|\n")
	for _, v := range s.Threads {
		w("| %s | %s | %s | %s | %d |\n", v.Name, map[bool]string{true: "yes", false: "no"}[v.Sealed],
			or(strings.Join(v.After, ", "), "-"), or(v.Error, "valid"), len(v.Wire))
	}
	for _, v := range s.Threads {
		w("\n#### %s\n\n%s\n\n", v.Name, v.Description)
		w("- ID: `%s`\n", v.ID)
		if v.OpensWith != "" {
			w("- opens with `%s`\n", v.OpensWith)
		}
		w("\nWire (%d bytes):\n\n```\n%s```\n", len(v.Wire), wrapHex(v.Wire))
		if len(v.Plain) > 0 {
			w("\nOpens to (%d bytes):\n\n```\n%s```\n", len(v.Plain), wrapHex(v.Plain))
		}
	}
	return b.String()
}
