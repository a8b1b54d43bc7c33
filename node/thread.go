package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/intentcast/intentcast/crypto"
	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node/store"
)

// Negotiation threads (docs/PROTOCOL.md, "Negotiation threads"): a customer
// answers an offer with a counter, the vendor with a reply that may carry a
// revised offer. Both travel sealed on the intent's offers topic, like
// offers, and every node relays and keeps them as it does sealed offers; only
// the two parties open them. Each party keeps its thread in the store (the
// threads table), checks every message it opens against it (the chain
// rule, intent.Thread.Check), and reports each new one as a thread event. A
// revised offer is also stored as an offer under the reply's ID, so the
// customer accepts it, and the vendor makes its deal, by the accept path of
// any offer.

// Thread errors. ErrThreadClosed is the intent package's: a counter or
// reply to a closed intent is refused with it, here and by the other party.
var (
	ErrThreadClosed = intent.ErrThreadClosed
	// ErrNoThread reports an offer this node cannot negotiate on: it
	// neither received it for an own intent nor sent it.
	ErrNoThread = errors.New("not a thread of this node")
	// ErrThreadTurn reports a message out of turn: the customer counters
	// at odd places, the vendor replies at even ones.
	ErrThreadTurn = errors.New("it is the other party's turn in this thread")
)

// ThreadRecord is one negotiation thread as this node holds it.
type ThreadRecord struct {
	IntentID intent.ID
	Root     intent.ID // the root offer's ID: the thread's name
	Role     Role      // this node's side
	Offer    OfferRecord
	Messages []ThreadMessageRecord
	// Open reports whether the thread takes another message: its intent is
	// open and it is not full. Turn says whose it is.
	Open bool
	Turn Role
}

// ThreadMessageRecord is one message of a thread.
type ThreadMessageRecord struct {
	ID        intent.ID // the sealed message's ID: a revised offer's offer ID
	Seq       int
	From      Role
	Direction Direction
	Created   time.Time
	Received  time.Time
	Price     uint64        // a counter's price; 0 if none
	Terms     *intent.Terms // a counter's further terms
	Text      string
	Offer     *OfferRecord // a reply's revised offer
}

// Counter answers an offer to one of this node's open intents: it signs a
// counter with the intent's key, seals it to the vendor, mints the offer
// work on it, keeps it and broadcasts it. offerID names the root offer or
// any revised offer of its thread.
func (n *Node) Counter(ctx context.Context, offerID intent.ID, d intent.CounterDraft) (ThreadRecord, error) {
	if err := n.alive(); err != nil {
		return ThreadRecord{}, err
	}
	unlock := n.lockOwn() // no accept or cancel closes the intent meanwhile
	defer unlock()
	root, err := n.threadRoot(ctx, offerID)
	if err != nil {
		return ThreadRecord{}, fmt.Errorf("counter: %w", err)
	}
	if root.Direction != store.Received {
		return ThreadRecord{}, fmt.Errorf("counter: offer %s was sent by this node (reply to a counter instead): %w", offerID.Short(), ErrNoThread)
	}
	own, err := n.openOwn(ctx, root.IntentID)
	if errors.Is(err, ErrIntentState) {
		return ThreadRecord{}, fmt.Errorf("counter: %w: %w", ErrThreadClosed, err)
	}
	if err != nil {
		return ThreadRecord{}, fmt.Errorf("counter: %w", err)
	}
	if root.Status == store.OfferRefused {
		return ThreadRecord{}, fmt.Errorf("counter: offer %s was refused (%s): %w", intent.ID(root.ID).Short(), root.Reason, ErrOfferState)
	}
	n.threadMu.Lock()
	defer n.threadMu.Unlock()
	t, err := n.loadThread(ctx, own.in, root)
	if err != nil {
		return ThreadRecord{}, fmt.Errorf("counter: %w", err)
	}
	if t.Next()%2 == 0 && t.Next() <= intent.MaxThreadMessages {
		return ThreadRecord{}, fmt.Errorf("counter: %w: the vendor has not answered your last counter", ErrThreadTurn)
	}
	sealed, m, err := intent.NewCounter(t, own.keys, d, n.now())
	if err != nil {
		return ThreadRecord{}, fmt.Errorf("counter: %w", err)
	}
	return n.sendThread(ctx, own.in, root, t, sealed, m, RoleCustomer, unlock)
}

// ReplyThread answers the last counter of a thread on an offer this node
// sent: with a revised offer (its defaults as SendOffer's), text, or both.
// root names the offer the thread started from.
func (n *Node) ReplyThread(ctx context.Context, rootID intent.ID, d intent.ReplyDraft) (ThreadRecord, error) {
	if err := n.alive(); err != nil {
		return ThreadRecord{}, err
	}
	root, err := n.threadRoot(ctx, rootID)
	if err != nil {
		return ThreadRecord{}, fmt.Errorf("reply: %w", err)
	}
	if root.Direction != store.Sent {
		return ThreadRecord{}, fmt.Errorf("reply: offer %s was not sent by this node (counter it instead): %w", rootID.Short(), ErrNoThread)
	}
	in, err := n.LiveIntent(root.IntentID)
	if err != nil {
		return ThreadRecord{}, fmt.Errorf("reply: %w: %w", ErrThreadClosed, err)
	}
	if d.Offer != nil {
		n.offerDefaults(in, d.Offer)
	}
	n.threadMu.Lock()
	defer n.threadMu.Unlock()
	t, err := n.loadThread(ctx, in, root)
	if err != nil {
		return ThreadRecord{}, fmt.Errorf("reply: %w", err)
	}
	if t.Next()%2 == 1 && t.Next() <= intent.MaxThreadMessages {
		return ThreadRecord{}, fmt.Errorf("reply: %w: wait for the customer's counter", ErrThreadTurn)
	}
	sealed, m, err := intent.NewThreadReply(t, n.identity, d, n.now())
	if err != nil {
		return ThreadRecord{}, fmt.Errorf("reply: %w", err)
	}
	return n.sendThread(ctx, in, root, t, sealed, m, RoleVendor, func() {})
}

// sendThread mints the work on a thread message this node made, stores it
// (with its revised offer, if any) and broadcasts it. unlock is called
// once it is stored: broadcasting may wait for a mesh peer.
func (n *Node) sendThread(ctx context.Context, in *intent.SignedIntent, root store.Offer, t *intent.Thread,
	sealed *intent.SealedThread, m *intent.ThreadMessage, role Role, unlock func()) (ThreadRecord, error) {
	mintCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(n.ctx, cancel) // Close stops the minting too
	defer stop()
	if err := sealed.Mint(mintCtx, n.cfg.Policy.OfferWork()); err != nil {
		return ThreadRecord{}, fmt.Errorf("thread message: %w", err)
	}
	if err := n.store.Apply(ctx, n.keepThread(sealed, in, root, m, store.Sent)); err != nil {
		return ThreadRecord{}, fmt.Errorf("thread message: store: %w", err)
	}
	if m.Offer != nil {
		n.live.countSent(in.ID) // an accept of it makes a deal here (deliverAccept)
	}
	t.Messages = append(t.Messages, m)
	unlock()
	if err := n.publish(ctx, in.Body.Category, true, sealed.Raw); err != nil {
		return ThreadRecord{}, fmt.Errorf("thread message %s: %w", sealed.ID.Short(), err)
	}
	n.metrics.published(metricThread)
	tr := n.threadRecord(ctx, in, root, role)
	n.events.publish(Event{Kind: EventThread, IntentID: in.ID, OfferID: root.ID, Thread: &tr})
	return tr, nil
}

// deliverThread keeps a sealed thread message for store-and-forward, like
// an offer, and opens it if this node is a party to its thread: the
// customer (an own intent: a vendor's reply) or a vendor that sent an offer
// to the intent (a counter). What does not open, or breaks the chain rule,
// is dropped: it proves nothing, or nothing this node may act on.
func (n *Node) deliverThread(ctx context.Context, s *intent.SealedThread) error {
	n.metrics.delivered(metricThread)
	live, isLive := n.live.peek(s.IntentID)
	if isLive {
		// Kept with the offers, by the same rule (the most work first).
		n.keep(store.RelayedOffer{ID: s.ID, IntentID: s.IntentID, Category: live.category.Value(), Raw: s.Raw,
			Expires: live.expiresAt().Add(n.cfg.Policy.Skew()), Kept: n.now()}, s.Work())
	}
	if own, ok := n.own.get(s.IntentID); ok {
		return n.receiveThread(ctx, s, own.in, own.keys.Reply, RoleCustomer)
	}
	if isLive && live.sent > 0 {
		in, err := live.intent(s.IntentID)
		if err != nil {
			return err
		}
		return n.receiveThread(ctx, s, in, n.identity.Reply, RoleVendor)
	}
	return nil
}

// receiveThread opens s with this side's reply key and, if it is the other
// party's next message of one of this node's threads, keeps it. open says
// whether the intent still takes thread messages here.
func (n *Node) receiveThread(ctx context.Context, s *intent.SealedThread, in *intent.SignedIntent, key crypto.ReplyKey, role Role) error {
	m, err := intent.OpenThread(s, key)
	if err != nil {
		// Sealed to the other side (this node's own message come back, or
		// another vendor's thread), or junk: nothing for this node.
		n.log.Debug("thread message not for this node", "id", s.ID.Short(), "intent", s.IntentID.Short(), "reason", err)
		return nil
	}
	if (role == RoleCustomer) != (m.Reply != nil) {
		n.log.Info("thread message refused", "id", s.ID.Short(), "reason", "a message of this side's own kind sealed to it")
		return nil
	}
	rootDir := store.Received // a customer's root offer came to it
	if role == RoleVendor {
		rootDir = store.Sent
	}
	root, err := n.rootByHash(ctx, in.ID, m.ThreadHash(), rootDir)
	if err != nil {
		n.log.Info("thread message refused", "id", s.ID.Short(), "intent", in.ID.Short(), "reason", err)
		return nil
	}
	n.threadMu.Lock()
	defer n.threadMu.Unlock()
	if !n.threadOpen(in.ID, role) {
		n.log.Info("thread message refused", "id", s.ID.Short(), "intent", in.ID.Short(), "reason", ErrThreadClosed)
		return nil
	}
	t, err := n.loadThread(ctx, in, root)
	if err != nil {
		return fmt.Errorf("thread message %s: %w", s.ID.Short(), err)
	}
	if err := t.Check(m, n.now(), n.cfg.Policy); err != nil {
		if errors.Is(err, intent.ErrThreadReplay) {
			return nil
		}
		n.log.Info("thread message refused", "id", s.ID.Short(), "intent", in.ID.Short(), "reason", err)
		return nil
	}
	if err := n.store.Apply(ctx, n.keepThread(s, in, root, m, store.Received)); err != nil {
		return fmt.Errorf("thread message %s: %w", s.ID.Short(), err)
	}
	if m.Offer != nil {
		n.own.countOffer(in.ID, store.OfferValid)
	}
	tr := n.threadRecord(ctx, in, root, role)
	n.events.publish(Event{Kind: EventThread, IntentID: in.ID, OfferID: root.ID, Thread: &tr})
	return nil
}

// keepThread is the batch that keeps a thread message of this node's, sent
// or received: the message, and its revised offer as an offer under the
// message's ID, so it is accepted like any offer.
func (n *Node) keepThread(s *intent.SealedThread, in *intent.SignedIntent, root store.Offer, m *intent.ThreadMessage, d store.Direction) store.Batch {
	b := store.Batch{Threads: []store.ThreadMessage{{ID: s.ID, IntentID: in.ID, Root: root.ID, Seq: uint16(m.Seq()), Direction: d,
		Raw: m.Raw, Sealed: s.Raw, Received: n.now()}}}
	if m.Offer != nil {
		b.Offers = []store.Offer{{ID: s.ID, IntentID: in.ID, Direction: d, Raw: s.Raw, Inner: m.Offer.Raw,
			Status: store.OfferValid, Received: n.now()}}
	}
	return b
}

// threadOpen reports whether an intent's threads take messages here: an
// own intent while open, another's while live.
func (n *Node) threadOpen(id intent.ID, role Role) bool {
	if role == RoleCustomer {
		own, ok := n.own.get(id)
		return ok && own.rec.State == store.IntentOpen && n.now().Before(own.in.Body.ExpiresAt())
	}
	_, err := n.LiveIntent(id)
	return err == nil
}

// rootByHash finds the offer of direction d to an intent whose
// vendor-signed bytes hash to h: the root a thread message names. A
// revised offer is kept as an offer too, under its reply's ID, but it
// belongs to its reply's thread and never roots one (docs/PROTOCOL.md,
// "Countering a revised offer").
func (n *Node) rootByHash(ctx context.Context, intentID intent.ID, h [32]byte, d store.Direction) (store.Offer, error) {
	offers, err := n.store.Offers(ctx, intentID)
	if err != nil {
		return store.Offer{}, err
	}
	for _, o := range offers {
		if o.Direction != d || len(o.Inner) == 0 || intent.OfferHash(o.Inner) != h {
			continue
		}
		_, err := n.store.ThreadMessage(ctx, o.ID)
		if err == nil {
			break // a revised offer
		}
		if !errors.Is(err, store.ErrNotFound) {
			return store.Offer{}, err
		}
		return o, nil
	}
	return store.Offer{}, fmt.Errorf("%w: it names an offer this node does not hold", intent.ErrWrongThread)
}

// threadRoot returns the root offer of the thread that offerID belongs to:
// the offer itself, or, for a revised offer, its thread's root.
func (n *Node) threadRoot(ctx context.Context, offerID intent.ID) (store.Offer, error) {
	tm, err := n.store.ThreadMessage(ctx, offerID)
	if err == nil {
		offerID = tm.Root
	} else if !errors.Is(err, store.ErrNotFound) {
		return store.Offer{}, err
	}
	o, err := n.store.Offer(ctx, offerID)
	if errors.Is(err, store.ErrNotFound) {
		return o, fmt.Errorf("offer %s: %w: %w", offerID.Short(), ErrNoThread, err)
	}
	if err != nil {
		return o, fmt.Errorf("offer %s: %w", offerID.Short(), err)
	}
	if len(o.Inner) == 0 {
		return o, fmt.Errorf("offer %s did not open: %w", offerID.Short(), ErrNoThread)
	}
	return o, nil
}

// loadThread rebuilds the thread on root from the store. Stored messages
// passed the chain rule when they were kept.
func (n *Node) loadThread(ctx context.Context, in *intent.SignedIntent, root store.Offer) (*intent.Thread, error) {
	signed, err := intent.ParseOffer(root.Inner)
	if err != nil {
		return nil, fmt.Errorf("root offer %s: %w", intent.ID(root.ID).Short(), err)
	}
	t, err := intent.NewThread(in, signed)
	if err != nil {
		return nil, err
	}
	msgs, err := n.threadMessages(ctx, root)
	if err != nil {
		return nil, err
	}
	for _, sm := range msgs {
		m, err := intent.ParseThreadMessage(sm.Raw)
		if err != nil {
			return nil, fmt.Errorf("stored thread message %s: %w", intent.ID(sm.ID).Short(), err)
		}
		t.Messages = append(t.Messages, m)
	}
	return t, nil
}

// threadMessages returns the stored messages of the thread on root, in
// order.
func (n *Node) threadMessages(ctx context.Context, root store.Offer) ([]store.ThreadMessage, error) {
	all, err := n.store.ThreadMessages(ctx, root.IntentID)
	if err != nil {
		return nil, fmt.Errorf("thread of offer %s: %w", intent.ID(root.ID).Short(), err)
	}
	var out []store.ThreadMessage
	for _, m := range all {
		if m.Root == root.ID {
			out = append(out, m)
		}
	}
	return out, nil
}

// sealedID parses what a /2 offer frame holds, a sealed offer or a sealed
// thread message, and returns its ID (the order sync serves them in).
func sealedID(raw []byte) (intent.ID, error) {
	m, err := intent.Parse(raw)
	if err != nil {
		return intent.ID{}, err
	}
	switch m := m.(type) {
	case *intent.SealedOffer:
		return m.ID, nil
	case *intent.SealedThread:
		return m.ID, nil
	}
	return intent.ID{}, fmt.Errorf("%w: a %T in an offer frame", intent.ErrMalformed, m)
}
