package intent

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/intentcast/intentcast/crypto"
)

// A negotiation thread (docs/PROTOCOL.md, "Negotiation threads") is the
// vendor's offer to an intent (its root) followed by at most
// MaxThreadMessages messages: the customer's counters (odd sequence numbers,
// signed by the intent's key, sealed to the vendor's reply key) and the
// vendor's replies (even, signed by the root offer's vendor key, sealed to
// the intent's reply key), each naming the hash of its predecessor. A reply
// may carry a revised offer, an ordinary vendor-signed offer the customer
// accepts like any other. Relays see only sealed envelopes that name the
// intent, with offer work on them.

// Content types of the thread's messages.
const (
	ContentSealedThread = "intentcast/sealed-thread"
	ContentCounter      = "intentcast/counter"
	ContentThreadReply  = "intentcast/thread-reply"
)

const (
	// MaxThreadMessages bounds a thread after its root offer: four counters
	// and four replies. Turns alternate, so neither side fills it alone.
	MaxThreadMessages = 8

	// threadInfoDomain prefixes the HPKE info of a sealed thread message;
	// the intent ID follows.
	threadInfoDomain = "intentcast/1/thread\x00"
	// threadPowDomain prefixes the proof-of-work hash of a sealed thread
	// message, as offerPowDomain does an offer's.
	threadPowDomain = "intentcast/1/thread-pow\x00"
)

// Errors of a thread message, found by the party that opens it (relays
// cannot see them).
var (
	// ErrNotChained reports a message whose sequence number or predecessor
	// hash does not continue the thread as the receiver holds it: a gap,
	// a fork (another message already holds that place) or a wrong turn.
	ErrNotChained = errors.New("thread message is not chained to the thread")
	// ErrThreadReplay reports a message the thread already holds.
	ErrThreadReplay = errors.New("thread message already in the thread")
	// ErrWrongThread reports a message that names another intent or
	// another root offer than the thread it was checked against.
	ErrWrongThread = errors.New("thread message belongs to another thread")
	// ErrThreadMalformed reports sealed bytes that open to no signed
	// thread message of the kind the receiver expects.
	ErrThreadMalformed = errors.New("sealed thread message content is malformed")
	// ErrThreadFull reports a message past MaxThreadMessages.
	ErrThreadFull = errors.New("thread is full")
	// ErrThreadClosed reports a thread message to an intent that is no
	// longer open (cancelled, accepted or expired): threads end with it.
	// Only a party's node can tell (it is state, not in the message).
	ErrThreadClosed = errors.New("the intent is closed: its threads take no more messages")
)

// threadUnprotected is a sealed thread message's unprotected header: the
// work nonce, under nego's private-use label.
type threadUnprotected struct {
	Nonce []byte `cbor:"-65700,keyasint"`
}

func threadHeader(n []byte) any { return threadUnprotected{Nonce: n} }

// SealedThread is a thread message as relays see it: which intent's
// thread it belongs to, and bytes only the other party can open.
type SealedThread struct {
	sealed
}

// ParseSealedThread checks what a relay can check without a policy, as
// ParseSealedOffer does.
func ParseSealedThread(raw []byte) (*SealedThread, error) {
	s, ct, err := parseSealed(raw, "sealed thread message")
	if err != nil {
		return nil, err
	}
	if ct != ContentSealedThread {
		return nil, fmt.Errorf("sealed thread message: %w: content type %q, want %q", ErrMalformed, ct, ContentSealedThread)
	}
	return &SealedThread{*s}, nil
}

// Work returns the leading zero bits of the message's proof-of-work hash.
func (s *SealedThread) Work() int { return s.work(threadPowDomain) }

// CheckWork reports, as ErrInsufficientWork, a message whose work is below
// the network's offer work (Reject).
func (s *SealedThread) CheckWork(p Policy) error {
	return s.checkWork("sealed thread message", threadPowDomain, p)
}

// Mint finds a nonce that gives the message bits of work; the ID does not
// change.
func (s *SealedThread) Mint(ctx context.Context, bits int) error {
	return s.mint(ctx, threadPowDomain, bits, threadHeader)
}

func threadInfo(intentID ID) []byte { return append([]byte(threadInfoDomain), intentID[:]...) }

// Counter is the customer's message in a thread: a price it would pay,
// terms it asks for beyond the intent's, and free text (a question).
type Counter struct {
	Version  uint   `cbor:"0,keyasint"`
	IntentID []byte `cbor:"1,keyasint"`
	Thread   []byte `cbor:"2,keyasint"` // OfferHash of the root offer
	Seq      uint   `cbor:"3,keyasint"` // 1, 3, 5, 7
	Prev     []byte `cbor:"4,keyasint"` // hash of the predecessor (the root's OfferHash for seq 1)
	Created  int64  `cbor:"5,keyasint"`
	Price    uint64 `cbor:"6,keyasint,omitempty"` // minor units of the intent's currency
	Terms    *Terms `cbor:"7,keyasint,omitempty"` // asked for on top of the intent's
	Text     string `cbor:"8,keyasint,omitempty"`
}

// ThreadReply is the vendor's message in a thread: a revised offer, text,
// or both.
type ThreadReply struct {
	Version  uint   `cbor:"0,keyasint"`
	IntentID []byte `cbor:"1,keyasint"`
	Thread   []byte `cbor:"2,keyasint"`
	Seq      uint   `cbor:"3,keyasint"` // 2, 4, 6, 8
	Prev     []byte `cbor:"4,keyasint"`
	Created  int64  `cbor:"5,keyasint"`
	Offer    []byte `cbor:"6,keyasint,omitempty"` // a vendor-signed offer (COSE_Sign1, intentcast/offer)
	Text     string `cbor:"7,keyasint,omitempty"`
}

// threadLink is what both kinds share: where a message sits.
type threadLink struct {
	IntentID, Thread, Prev []byte
	Seq                    uint
	Created                int64
}

func (l threadLink) check(counter bool) error {
	if len(l.IntentID) != 32 || len(l.Thread) != 32 || len(l.Prev) != 32 {
		return fmt.Errorf("%w: intent id, thread and prev must be 32 bytes", ErrSchema)
	}
	if l.Seq < 1 || l.Seq > MaxThreadMessages {
		return fmt.Errorf("%w: sequence number %d, a thread holds 1..%d", ErrSchema, l.Seq, MaxThreadMessages)
	}
	if counter != (l.Seq%2 == 1) {
		return fmt.Errorf("%w: sequence number %d is the other party's turn (counters odd, replies even)", ErrSchema, l.Seq)
	}
	if l.Created <= 0 {
		return fmt.Errorf("%w: created must be positive", ErrSchema)
	}
	return nil
}

func (c *Counter) check() error {
	if err := (threadLink{c.IntentID, c.Thread, c.Prev, c.Seq, c.Created}).check(true); err != nil {
		return err
	}
	if c.Price > MaxPrice {
		return fmt.Errorf("%w: price %d over %d minor units", ErrSchema, c.Price, uint64(MaxPrice))
	}
	if len(c.Text) > MaxText {
		return fmt.Errorf("%w: counter text of %d bytes, at most %d", ErrSchema, len(c.Text), MaxText)
	}
	if c.Terms != nil {
		if len(c.Terms.IDs) == 0 && len(c.Terms.Custom) == 0 {
			return fmt.Errorf("%w: counter terms present but empty (omit key 7)", ErrSchema)
		}
		if err := c.Terms.check(); err != nil {
			return err
		}
	}
	if c.Price == 0 && c.Terms == nil && c.Text == "" {
		return fmt.Errorf("%w: a counter says nothing: give a price, terms or text", ErrSchema)
	}
	return nil
}

func (r *ThreadReply) check() error {
	if err := (threadLink{r.IntentID, r.Thread, r.Prev, r.Seq, r.Created}).check(false); err != nil {
		return err
	}
	if len(r.Text) > MaxText {
		return fmt.Errorf("%w: reply text of %d bytes, at most %d", ErrSchema, len(r.Text), MaxText)
	}
	if len(r.Offer) == 0 && r.Text == "" {
		return fmt.Errorf("%w: a reply says nothing: give a revised offer or text", ErrSchema)
	}
	return nil
}

// ThreadMessage is one signed message of a thread, opened: exactly one of
// Counter and Reply is set. Offer is the revised offer a reply carries.
type ThreadMessage struct {
	Raw     []byte   // the signed COSE_Sign1 message
	Hash    [32]byte // SHA-256 of Raw: what the next message names as prev
	Counter *Counter
	Reply   *ThreadReply
	Offer   *SignedOffer
	msg     *crypto.Sign1Message
}

func (m *ThreadMessage) link() threadLink {
	if m.Counter != nil {
		c := m.Counter
		return threadLink{c.IntentID, c.Thread, c.Prev, c.Seq, c.Created}
	}
	r := m.Reply
	return threadLink{r.IntentID, r.Thread, r.Prev, r.Seq, r.Created}
}

// ThreadHash returns the thread the message names: its root offer's
// OfferHash.
func (m *ThreadMessage) ThreadHash() [32]byte {
	var h [32]byte
	copy(h[:], m.link().Thread)
	return h
}

// Seq returns the message's place in its thread (1..MaxThreadMessages).
func (m *ThreadMessage) Seq() int { return int(m.link().Seq) }

// CreatedAt returns when the message was signed.
func (m *ThreadMessage) CreatedAt() time.Time { return time.Unix(m.link().Created, 0) }

// ParseThreadMessage parses a signed thread message, a counter or a reply:
// envelope, strict canonical payload and schema. Its signature and place
// are checked against a thread by Thread.Check.
func ParseThreadMessage(raw []byte) (*ThreadMessage, error) {
	if len(raw) > MaxOfferSize {
		return nil, fmt.Errorf("thread message: %w: %d bytes, at most %d", ErrTooLarge, len(raw), MaxOfferSize)
	}
	msg, err := crypto.ParseSign1(raw)
	if err != nil {
		return nil, fmt.Errorf("thread message: %w: %w", ErrMalformed, err)
	}
	m := &ThreadMessage{Raw: msg.Raw, Hash: sha256.Sum256(raw), msg: msg}
	switch msg.ContentType {
	case ContentCounter:
		m.Counter = new(Counter)
		if _, err := decodeVersioned(msg.Payload, m.Counter, "counter payload"); err != nil {
			return nil, fmt.Errorf("counter: %w", err)
		}
		if err := m.Counter.check(); err != nil {
			return nil, fmt.Errorf("counter: %w", err)
		}
	case ContentThreadReply:
		m.Reply = new(ThreadReply)
		if _, err := decodeVersioned(msg.Payload, m.Reply, "reply payload"); err != nil {
			return nil, fmt.Errorf("thread reply: %w", err)
		}
		if err := m.Reply.check(); err != nil {
			return nil, fmt.Errorf("thread reply: %w", err)
		}
		if len(m.Reply.Offer) > 0 {
			o, err := ParseOffer(m.Reply.Offer)
			if err != nil {
				return nil, fmt.Errorf("thread reply: revised offer: %w", err)
			}
			m.Offer = o
		}
	default:
		return nil, fmt.Errorf("thread message: %w: content type %q, want %q or %q", ErrMalformed, msg.ContentType, ContentCounter, ContentThreadReply)
	}
	return m, nil
}

func (m *ThreadMessage) version() uint {
	if m.Counter != nil {
		return m.Counter.Version
	}
	return m.Reply.Version
}

// Thread is one negotiation as a party holds it: the intent, the root offer
// (the vendor-signed offer the first counter answers) and the messages in
// order. It does no I/O; the node stores the raw messages and rebuilds it.
type Thread struct {
	Intent   *SignedIntent
	Root     *SignedOffer
	Messages []*ThreadMessage
}

// ID returns the thread's name on the wire: the root offer's OfferHash.
func (t *Thread) ID() [32]byte { return OfferHash(t.Root.Raw) }

// Last returns the hash the next message must name as prev.
func (t *Thread) Last() [32]byte {
	if len(t.Messages) == 0 {
		return t.ID()
	}
	return t.Messages[len(t.Messages)-1].Hash
}

// Next returns the sequence number of the next message.
func (t *Thread) Next() uint { return uint(len(t.Messages)) + 1 }

// NewThread starts a thread on root, an offer to in.
func NewThread(in *SignedIntent, root *SignedOffer) (*Thread, error) {
	if id, _ := idFromBytes(root.Body.IntentID); id != in.ID {
		return nil, fmt.Errorf("thread: %w: the root offer answers intent %s, not %s", ErrWrongThread, id.Short(), in.ID.Short())
	}
	return &Thread{Intent: in, Root: root}, nil
}

// Check runs the chain rule on m against the thread, in the order of
// docs/PROTOCOL.md ("Checking a thread message"): it names this thread,
// its signature verifies under the key its kind prescribes, its version is
// 1, it holds the next place and names the last message's hash, its time is
// within the intent's life, and a revised offer is one the customer could
// accept. It does not append m.
func (t *Thread) Check(m *ThreadMessage, now time.Time, p Policy) error {
	l := m.link()
	what := fmt.Sprintf("thread message %d", l.Seq)
	if id, _ := idFromBytes(l.IntentID); id != t.Intent.ID {
		return fmt.Errorf("%s: %w: names intent %s", what, ErrWrongThread, id.Short())
	}
	if th := t.ID(); string(l.Thread) != string(th[:]) {
		return fmt.Errorf("%s: %w: names another root offer", what, ErrWrongThread)
	}
	key := t.Intent.Body.SigningKey
	if m.Reply != nil {
		key = t.Root.Body.VendorKey
	}
	if err := m.msg.Verify(key); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := checkVersion(m.version()); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if i := int(l.Seq) - 1; i < len(t.Messages) {
		if t.Messages[i].Hash == m.Hash {
			return fmt.Errorf("%s: %w", what, ErrThreadReplay)
		}
		return fmt.Errorf("%s: %w: the thread already holds another message %d (a fork)", what, ErrNotChained, l.Seq)
	}
	if l.Seq != t.Next() {
		return fmt.Errorf("%s: %w: the thread holds %d messages", what, ErrNotChained, len(t.Messages))
	}
	if last := t.Last(); string(l.Prev) != string(last[:]) {
		return fmt.Errorf("%s: %w: prev is not the hash of message %d", what, ErrNotChained, l.Seq-1)
	}
	if err := checkWindow(l.Created, t.Intent.Body.Expires, now, p); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if m.Offer != nil {
		if string(m.Offer.Body.VendorKey) != string(t.Root.Body.VendorKey) {
			return fmt.Errorf("%s: revised offer: %w: signed by another vendor key than the root offer's", what, ErrWrongThread)
		}
		if err := offerFits(m.Offer, t.Intent, now); err != nil {
			return fmt.Errorf("%s: revised offer: %w", what, err)
		}
	}
	return nil
}

// Append checks m and adds it to the thread.
func (t *Thread) Append(m *ThreadMessage, now time.Time, p Policy) error {
	if err := t.Check(m, now, p); err != nil {
		return err
	}
	t.Messages = append(t.Messages, m)
	return nil
}

// CounterDraft is what a customer says in a counter.
type CounterDraft struct {
	Price uint64 // 0: no price proposed
	Terms Terms  // asked for on top of the intent's; empty: none
	Text  string
}

// NewCounter signs the thread's next message as the customer, with the
// intent's keys, and seals it to the root offer's vendor reply key. The
// sealed message carries no work yet (Mint).
func NewCounter(t *Thread, keys Keys, d CounterDraft, now time.Time) (*SealedThread, *ThreadMessage, error) {
	last := t.Last()
	body := Counter{Version: Version, IntentID: t.Intent.ID[:], Thread: idBytes(t.ID()), Seq: t.Next(),
		Prev: last[:], Created: now.Unix(), Price: d.Price, Text: d.Text}
	if len(d.Terms.IDs) > 0 || len(d.Terms.Custom) > 0 {
		body.Terms = &d.Terms
	}
	if body.Seq > MaxThreadMessages {
		return nil, nil, fmt.Errorf("new counter: %w: %d messages", ErrThreadFull, len(t.Messages))
	}
	if err := body.check(); err != nil {
		return nil, nil, fmt.Errorf("new counter: %w", err)
	}
	return sealThreadMessage(t, keys.Signing, ContentCounter, body, t.Root.Body.VendorReplyKey.public(), now)
}

// ReplyDraft is what a vendor says in a reply: a revised offer, text, or
// both.
type ReplyDraft struct {
	Offer *OfferDraft
	Text  string
}

// NewThreadReply signs the thread's next message as the vendor and seals it
// to the intent's reply key; a revised offer in it is signed by the same
// identity. The sealed message carries no work yet (Mint).
func NewThreadReply(t *Thread, vendor crypto.Identity, d ReplyDraft, now time.Time) (*SealedThread, *ThreadMessage, error) {
	last := t.Last()
	body := ThreadReply{Version: Version, IntentID: t.Intent.ID[:], Thread: idBytes(t.ID()), Seq: t.Next(),
		Prev: last[:], Created: now.Unix(), Text: d.Text}
	if body.Seq > MaxThreadMessages {
		return nil, nil, fmt.Errorf("new reply: %w: %d messages", ErrThreadFull, len(t.Messages))
	}
	if string(vendor.Signing.Public()) != string(t.Root.Body.VendorKey) {
		return nil, nil, fmt.Errorf("new reply: %w: this identity did not make the root offer", ErrWrongThread)
	}
	if d.Offer != nil {
		o, err := signOffer(t.Intent, vendor, *d.Offer)
		if err != nil {
			return nil, nil, fmt.Errorf("new reply: %w", err)
		}
		body.Offer = o.Raw
	}
	if err := body.check(); err != nil {
		return nil, nil, fmt.Errorf("new reply: %w", err)
	}
	return sealThreadMessage(t, vendor.Signing, ContentThreadReply, body, t.Intent.Body.ReplyKey.public(), now)
}

func sealThreadMessage(t *Thread, k crypto.SigningKey, contentType string, body any, to crypto.PublicReplyKey, now time.Time) (*SealedThread, *ThreadMessage, error) {
	payload, err := marshal(body)
	if err != nil {
		return nil, nil, fmt.Errorf("thread message: encode: %w", err)
	}
	raw, err := crypto.Sign1(k, contentType, payload)
	if err != nil {
		return nil, nil, fmt.Errorf("thread message: sign: %w", err)
	}
	m, err := ParseThreadMessage(raw)
	if err != nil {
		return nil, nil, err
	}
	if err := t.Check(m, now, Policy{}); err != nil {
		return nil, nil, err
	}
	s, err := sealTo(to, ContentSealedThread, t.Intent.ID, threadInfo(t.Intent.ID), raw, threadHeader)
	if err != nil {
		return nil, nil, fmt.Errorf("thread message: %w", err)
	}
	return &SealedThread{*s}, m, nil
}

// OpenThread opens a sealed thread message with the receiver's reply key
// (the vendor's for a counter, the intent's for a reply) and parses what
// it holds. ErrSealed: not sealed to this key (or tampered); errors that
// wrap ErrThreadMalformed: it opened to no thread message. The message is
// then checked against its thread (Thread.Check).
func OpenThread(s *SealedThread, k crypto.ReplyKey) (*ThreadMessage, error) {
	plain, err := crypto.Open(k, threadInfo(s.IntentID), s.protected, s.ciphertext)
	if err != nil {
		return nil, fmt.Errorf("open thread message %s: %w", s.ID.Short(), err)
	}
	m, err := ParseThreadMessage(plain)
	if err != nil {
		return nil, fmt.Errorf("open thread message %s: %w: %w", s.ID.Short(), ErrThreadMalformed, err)
	}
	return m, nil
}

func idBytes(h [32]byte) []byte { return h[:] }
