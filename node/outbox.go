package node

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node/store"
)

// The outbox: truthful send status. Every own message (an intent, a
// sealed offer, an accept, a cancel) is queued in the store in the same
// transaction as the state change that made it, and then moves on:
//
//   - queued: no peer has it yet. A node with no peer on the message's
//     topic keeps it so, durably (a restart keeps it queued), and sends it
//     when a peer joins its mesh for the topic, instead of publishing into
//     nothing.
//   - sent: it left the node: a stem successor acknowledged it, or gossip
//     wrote it to at least one peer's stream (Peers counts them). It proves
//     a peer was handed the bytes, not that it kept or passed them on.
//   - seen: a peer showed it holds the message: a copy of it, or an IHAVE
//     naming it, came in from a peer (for an intent, cancel or accept, that
//     is the message back by gossip after its stem: some node published it
//     into gossip), or a peer's sync request listed it among what it holds
//     (listed). It proves the network has it; not that the customer's or
//     the vendor's node does. Peers may be 0: a stem successor that took
//     the message and fluffed it, but acknowledged it after the hand-over's
//     timeout, is not counted.
//   - refused: this node's own check refused it when it was to leave (the
//     intent closed or expired while it was queued). It never left, and is
//     never shown as sent.
//
// The status only moves forward. Sent and seen are learnt from the
// router's trace (outbox_trace.go) on the router's goroutines, which must
// not block: they change memory, emit EventSend, and queue the record for
// the store's next write-behind flush (statuses, below).

// MessageKind and SendStatus are the store's: one spelling on disk, in the
// node and in the API.
type (
	MessageKind = store.MessageKind
	SendStatus  = store.SendStatus
)

// The kinds of own messages and their send statuses.
const (
	MessageIntent = store.MessageIntent
	MessageOffer  = store.MessageOffer
	MessageAccept = store.MessageAccept
	MessageCancel = store.MessageCancel

	SendQueued  = store.SendQueued
	SendSent    = store.SendSent
	SendSeen    = store.SendSeen
	SendRefused = store.SendRefused
)

// SendRecord is how far one of this node's own messages got.
type SendRecord struct {
	ID       intent.ID // the message ID
	Kind     MessageKind
	IntentID intent.ID
	OfferID  intent.ID // the offer an offer is, or an accept names
	Status   SendStatus
	Peers    int    // peers it was handed to
	Reason   string // why it was refused
	// When it reached each status; zero if it has not.
	Queued, Sent, Seen, Refused time.Time
}

func sendRecord(o *store.Outgoing) SendRecord {
	return SendRecord{
		ID: o.ID, Kind: o.Kind, IntentID: o.IntentID, OfferID: o.OfferID, Status: o.Status, Peers: o.Peers,
		Reason: o.Reason, Queued: o.Queued, Sent: o.Sent, Seen: o.Seen, Refused: o.Refused,
	}
}

// outbox holds the own messages in memory, from the store at start, until
// they expire.
type outbox struct {
	noTrace // the router's events it follows are in outbox_trace.go
	n       *Node

	mu   sync.Mutex
	msgs map[intent.ID]*outEntry
	// byIntent and byOffer index msgs for the queries that name an
	// intent (Sends: every intent record shown, each publish) or an
	// offer (SendOf: every sent offer shown): a vendor's outbox holds
	// each offer it sent until its intent expires, and a scan of it per
	// record, under mu, would hold up the router's trace.
	byIntent map[intent.ID][]*outEntry   // by IntentID: the intent, its cancel or accept, offers sent to it
	byOffer  map[intent.ID]*outEntry     // sent offers, by OfferID
	untried  map[intent.ID]*outEntry     // queued and not yet tried in this run: what a wake sends
	unseen   map[intent.ID]*outEntry     // queued or sent, not yet seen: what a sync request can show held
	prints   map[fingerprint]int         // unseen's fingerprints: the trace hashes only what matches one
	mesh     map[string]map[peer.ID]bool // this node's gossip mesh, by topic (from the trace)
	kick     chan struct{}
}

type outEntry struct {
	rec       store.Outgoing
	peers     map[peer.ID]bool
	attempted bool          // handed to the stem or the router in this run: not again
	moved     chan struct{} // closed when the status first leaves queued
	// checked is the parsed intent of an own intent message (as the node
	// made it, or as send's own check parsed it), for the checks it meets
	// as it leaves: send's, the stem's, and the router's validator's when
	// this node publishes it (ownChecked). Each still validates it; none
	// decodes it again, and its signature is verified once.
	checked *intent.SignedIntent
}

func newOutbox(n *Node) *outbox {
	return &outbox{n: n, msgs: make(map[intent.ID]*outEntry), byIntent: make(map[intent.ID][]*outEntry),
		byOffer: make(map[intent.ID]*outEntry), untried: make(map[intent.ID]*outEntry),
		unseen: make(map[intent.ID]*outEntry), prints: make(map[fingerprint]int),
		mesh: make(map[string]map[peer.ID]bool), kick: make(chan struct{}, 1)}
}

// load rebuilds the outbox from the store at start. A queued message
// never left the node, so the replay index (seeded with every message the
// store holds) must not count it as seen, or this node's own check would
// refuse it as a replay when it is sent. Its first copy from a peer is
// then taken as it coming back, as in a run with no restart (a peer can
// only hold it if it left: its status write was lost to a crash).
func (o *outbox) load(ctx context.Context) error {
	list, err := o.n.store.Outbox(ctx)
	if err != nil {
		return fmt.Errorf("node: load the outbox: %w", err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, rec := range list {
		e := &outEntry{rec: rec, peers: make(map[peer.ID]bool), moved: make(chan struct{})}
		if rec.Status == SendQueued {
			o.n.replay.forget(replayID(&rec))
		} else {
			close(e.moved)
		}
		o.add(e)
	}
	return nil
}

// replayID is the ID the replay index knows an own message by: a sealed
// offer's sealed ID, which leaves its work nonce out; any other message's
// wire ID.
func replayID(rec *store.Outgoing) intent.ID {
	if rec.Kind == MessageOffer {
		return rec.OfferID
	}
	return rec.ID
}

// add puts e into memory, in place of an entry of the same message (one
// published again); o.mu is held.
func (o *outbox) add(e *outEntry) {
	if old, ok := o.msgs[e.rec.ID]; ok {
		o.remove(old)
	}
	o.msgs[e.rec.ID] = e
	o.byIntent[e.rec.IntentID] = append(o.byIntent[e.rec.IntentID], e)
	if e.rec.Kind == MessageOffer {
		o.byOffer[e.rec.OfferID] = e
	}
	if e.rec.Status == SendQueued && !e.attempted {
		o.untried[e.rec.ID] = e
	}
	if mayComeBack(e.rec.Status) {
		o.unseen[e.rec.ID] = e
		o.prints[fingerprintOf(e.rec.Raw)]++
	}
}

// remove takes e out of memory; o.mu is held.
func (o *outbox) remove(e *outEntry) {
	delete(o.msgs, e.rec.ID)
	if rest := slices.DeleteFunc(o.byIntent[e.rec.IntentID], func(x *outEntry) bool { return x == e }); len(rest) > 0 {
		o.byIntent[e.rec.IntentID] = rest
	} else {
		delete(o.byIntent, e.rec.IntentID)
	}
	if e.rec.Kind == MessageOffer && o.byOffer[e.rec.OfferID] == e {
		delete(o.byOffer, e.rec.OfferID)
	}
	delete(o.untried, e.rec.ID)
	if mayComeBack(e.rec.Status) {
		o.forgetUnseen(e)
	}
}

// mayComeBack reports whether a message with status s may still come back
// from a peer, which the trace looks for.
func mayComeBack(s SendStatus) bool { return s == SendQueued || s == SendSent }

// forgetUnseen drops e from the messages that may come back; o.mu is held.
func (o *outbox) forgetUnseen(e *outEntry) {
	delete(o.unseen, e.rec.ID)
	f := fingerprintOf(e.rec.Raw)
	if o.prints[f]--; o.prints[f] <= 0 {
		delete(o.prints, f)
	}
}

// queue makes the outbox entry of a new own message, for the caller to
// store in the transaction of its state change, and enter with accept
// once that is durable.
func (n *Node) queue(kind MessageKind, in *intent.SignedIntent, offerID intent.ID, raw []byte) store.Outgoing {
	return store.Outgoing{
		ID: intent.IDOf(raw), Kind: kind, IntentID: in.ID, OfferID: offerID, Category: in.Body.Category,
		Raw: raw, Status: SendQueued, Queued: n.now(), Expires: in.Body.ExpiresAt().Add(n.cfg.Policy.Skew()),
	}
}

// send enters a stored own message and sends it if the node has a peer on
// its topic; otherwise it stays queued and goes when one joins. parsed is
// the intent of an own intent message as the node made it (nil for the
// other kinds), so that its checks do not decode it again. It returns
// the message's status once it has moved on from queued, or after a short
// wait (the router hands a published message to its peers on its own
// goroutine), or at once if it stays queued.
func (n *Node) send(ctx context.Context, rec store.Outgoing, parsed *intent.SignedIntent) (SendRecord, error) {
	o := n.outbox
	e := &outEntry{rec: rec, checked: parsed, peers: make(map[peer.ID]bool), moved: make(chan struct{})}
	o.mu.Lock()
	o.add(e)
	o.mu.Unlock()
	n.events.publish(Event{Kind: EventSend, IntentID: rec.IntentID, OfferID: rec.OfferID, Status: string(rec.Status), Send: ptr(sendRecord(&rec))})
	if rec.Kind == MessageIntent || rec.Kind == MessageOffer {
		// Checked now, peers or not: one this node refuses is refused
		// now, not when a peer comes. (A cancel or accept may name an own
		// intent still queued, so they are checked when they leave.)
		// A replay here is not a refusal: the entry is in, so the outbox
		// loop (woken by a graft) may have published it already.
		m, err := n.checkWith(ctx, "", rec.Category, rec.Kind == MessageOffer, rec.Raw, checkOwn)
		if err != nil && !errors.Is(err, errReplay) {
			if o.refuse(rec.ID, err) {
				return o.record(e), fmt.Errorf("%w: %w", ErrRefused, err)
			}
		}
		if in, ok := m.(*intent.SignedIntent); ok {
			o.mu.Lock()
			e.checked = in
			o.mu.Unlock()
		}
	}
	if err := o.try(ctx, e); err != nil {
		return o.record(e), err
	}
	if o.attempted(e) {
		wait, cancel := context.WithTimeout(ctx, sendWait)
		defer cancel()
		select {
		case <-e.moved:
		case <-wait.Done():
		}
	}
	return o.record(e), nil
}

// ownChecked returns the parsed intent of an own message that send's
// check validated, if data is one still in the outbox. The stem, and the
// router's validator as this node publishes it, check an own intent again
// as they check a peer's; given this, they verify no signature a second
// time (intent.SignedIntent.Validate remembers it verified one).
func (o *outbox) ownChecked(data []byte) *intent.SignedIntent {
	o.mu.Lock()
	defer o.mu.Unlock()
	if e, ok := o.msgs[intent.IDOf(data)]; ok {
		return e.checked
	}
	return nil
}

// sendWait bounds how long send waits for the router to hand a message to
// a peer before it answers "queued".
const sendWait = 2 * time.Second

func ptr[T any](v T) *T { return &v }

func (o *outbox) record(e *outEntry) SendRecord {
	o.mu.Lock()
	defer o.mu.Unlock()
	return sendRecord(&e.rec)
}

func (o *outbox) attempted(e *outEntry) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return e.attempted
}

// try sends a queued message if its topic has a peer: through the stem,
// or into gossip for a sealed offer. A message this node's own check
// refuses is marked refused, and the refusal returned.
func (o *outbox) try(ctx context.Context, e *outEntry) error {
	n := o.n
	o.mu.Lock()
	if e.attempted || e.rec.Status != SendQueued {
		o.mu.Unlock()
		return nil
	}
	rec := e.rec
	o.mu.Unlock()
	offers := rec.Kind == MessageOffer || rec.Kind == MessageAccept
	topic := topicOf(rec.Category, offers)
	if len(n.net.ps.ListPeers(topic)) == 0 {
		return nil
	}
	if (rec.Kind == MessageOffer || n.cfg.DisableStem) && !o.meshed(topic) {
		// Straight into gossip: a message published while the mesh is
		// empty reaches nobody (gossipsub sends to mesh peers), so it
		// waits for the first graft on its topic.
		return nil
	}
	o.mu.Lock()
	e.attempted = true
	if o.untried[e.rec.ID] == e { // not a later entry of the same message
		delete(o.untried, e.rec.ID)
	}
	o.mu.Unlock()
	err := n.publish(ctx, rec.Category, offers, rec.Raw)
	if err == nil {
		return nil
	}
	if errors.Is(err, errReplay) {
		// load took a queued message out of the replay index, so only a
		// peer's copy (by gossip or sync) put it back: it left before a
		// crash lost its status write, and the network has it.
		o.seenBy(rec.ID)
		return nil
	}
	if o.refuse(rec.ID, err) {
		return fmt.Errorf("%w: %w", ErrRefused, err)
	}
	// Not refused: the node closing, the router gone. It stays queued and
	// is tried again at the next start.
	n.log.Warn("own message not sent; it stays queued", "id", intent.ID(rec.ID).Short(), "err", err)
	return nil
}

// refuse marks message id refused if err is a refusal, and reports
// whether it was.
func (o *outbox) refuse(id intent.ID, err error) bool {
	reason, ok := refusal(err)
	if ok {
		o.update(id, func(r *store.Outgoing, _ *outEntry) bool {
			if r.Status != SendQueued {
				return false
			}
			r.Status, r.Refused, r.Reason = SendRefused, o.n.now(), reason
			return true
		})
	}
	return ok
}

// refusal tells a verdict of this node's own check (its validators, or
// the router's local validation) from a failure to send, and names it:
// the reason code of docs/PROTOCOL.md, and what failed.
func refusal(err error) (string, bool) {
	if errors.Is(err, errStoreFailure) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return "", false
	}
	if name := reasonName(err); name != "other" {
		return name + ": " + err.Error(), true
	}
	var v pubsub.ValidationError
	if errors.As(err, &v) {
		return "refused by the router's validation: " + v.Reason, true
	}
	return "", false
}

// meshed reports whether this node's mesh for topic has a peer.
func (o *outbox) meshed(topic string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.mesh[topic]) > 0
}

// ErrRefused reports an own message this node's own check refused when it
// was to be sent: it never left the node.
var ErrRefused = errors.New("refused by this node's own check")

// update changes an entry's record with f (which reports whether it
// changed it), reports the change and queues it for the store. Both under
// o.mu, so that the events and the queued records of one message come in
// the order of its changes.
func (o *outbox) update(id intent.ID, f func(*store.Outgoing, *outEntry) bool) {
	o.mu.Lock()
	e, ok := o.msgs[id]
	if !ok {
		o.mu.Unlock()
		return
	}
	was := e.rec.Status
	if !f(&e.rec, e) {
		o.mu.Unlock()
		return
	}
	if was == SendQueued && e.rec.Status != SendQueued {
		close(e.moved)
		delete(o.untried, e.rec.ID)
	}
	if mayComeBack(was) && !mayComeBack(e.rec.Status) {
		o.forgetUnseen(e)
	}
	o.n.replay.putStatus(e.rec)
	o.n.events.publish(Event{Kind: EventSend, IntentID: e.rec.IntentID, OfferID: e.rec.OfferID, Status: string(e.rec.Status), Reason: e.rec.Reason, Send: ptr(sendRecord(&e.rec))})
	o.mu.Unlock()
}

func (o *outbox) wake() {
	select {
	case o.kick <- struct{}{}:
	default:
	}
}

// handed records that peer p was handed message id (a stem successor
// took it, or gossip wrote it to p).
func (o *outbox) handed(id intent.ID, p peer.ID) {
	o.update(id, func(r *store.Outgoing, e *outEntry) bool {
		// Also once seen: the copy that came back may overtake the
		// stem successor's acknowledgment.
		if e.peers[p] || r.Status == SendRefused {
			return false
		}
		e.peers[p] = true
		r.Peers++
		if r.Status == SendQueued {
			r.Status, r.Sent = SendSent, o.n.now()
		}
		return true
	})
}

// seenBy records that a peer showed it holds message id.
func (o *outbox) seenBy(id intent.ID) {
	o.update(id, func(r *store.Outgoing, _ *outEntry) bool {
		if r.Status != SendQueued && r.Status != SendSent {
			return false
		}
		now := o.n.now()
		if r.Sent.IsZero() {
			r.Sent = now // it left the node: the network has it
		}
		r.Status, r.Seen = SendSeen, now
		return true
	})
}

// handedOn is the stem's view of handed (stemNode).
func (n *Node) handedOn(id intent.ID, p peer.ID) { n.outbox.handed(id, p) }

// listedBy is sync's view of listed (syncNode).
func (n *Node) listedBy(req *parsedRequest) { n.outbox.listed(req) }

// listed marks seen the own messages a peer's sync request lists as held
// (docs/PROTOCOL.md: a requester lists the ID prefixes of what it holds):
// in set 0 an own intent among the live ones, or the tombstone of an own
// intent, which a cancel or accept of it made; in set 1 an own offer. A
// peer can only list an ID it learnt, and an own message's ID leaves the
// node with the message.
func (o *outbox) listed(req *parsedRequest) {
	var held []intent.ID
	o.mu.Lock()
	for id, e := range o.unseen {
		if e.rec.Category != req.Category {
			continue
		}
		var ok bool
		switch e.rec.Kind {
		case MessageIntent:
			ok = req.Set == syncSetIntents && (req.hasLive(prefixOf(id)) || req.hasTomb(prefixOf(id)))
		case MessageCancel, MessageAccept:
			ok = req.Set == syncSetIntents && req.hasTomb(prefixOf(e.rec.IntentID))
		case MessageOffer:
			ok = req.Set == syncSetOffers && req.hasLive(prefixOf(e.rec.OfferID)) // set 1 lists offer IDs
		}
		if ok {
			held = append(held, id)
		}
	}
	o.mu.Unlock()
	for _, id := range held {
		o.seenBy(id)
	}
}

// Statuses are written behind, with the replay index's flush
// (replayIndex.putStatus): a status records what already happened, not an
// acknowledged operation (the message itself was stored, queued, in the
// transaction that made it). An own intent is sent and then seen within
// milliseconds; one commit (two disk syncs) per change was two of a
// publish's three, and a commit of their own each second after that was
// still a fifth of a busy node's store writes (docs/BENCHMARKS.md). A
// crash that loses a change leaves the message queued in the store, and
// the restarted node sends it again, which peers drop as a duplicate and
// which then counts as seen (load). The change is in memory, and so in
// every query and EventSend, at once.

// run is the outbox loop: it sends queued messages when their topic has a
// peer, until the node closes.
// A graft wakes it (outbox_trace.go): the router grafts only peers on the
// topic, and grafts one whenever its mesh for the topic is short, so a
// topic that had no peer (for the stem) or no mesh peer (for gossip) gets
// a graft when it gets one. Each message is handed to the router at most
// once per run (try), so a wake never publishes one twice.
func (o *outbox) run(ctx context.Context) error {
	o.wake() // messages queued before a restart
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-o.kick:
		}
		for _, e := range o.queued() {
			if err := o.try(ctx, e); err != nil {
				o.n.log.Info("queued own message refused", "id", intent.ID(e.rec.ID).Short(), "err", err)
			}
		}
	}
}

// queued returns the queued entries not yet tried, oldest first, so that
// an intent goes before its cancel.
func (o *outbox) queued() []*outEntry {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := slices.Collect(maps.Values(o.untried))
	slices.SortFunc(out, func(a, b *outEntry) int { return a.rec.Queued.Compare(b.rec.Queued) })
	return out
}

// prune forgets the entries that expired before now; the store prunes
// them at the same time.
func (o *outbox) prune(now time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, e := range o.msgs {
		if e.rec.Expires.Before(now) {
			o.remove(e)
		}
	}
}

// Sends returns how far this node's own messages about an intent got:
// the intent, its cancel or accept, the offers this node sent to it.
func (n *Node) Sends(intentID intent.ID) []SendRecord {
	n.outbox.mu.Lock()
	defer n.outbox.mu.Unlock()
	var out []SendRecord
	for _, e := range n.outbox.byIntent[intentID] {
		out = append(out, sendRecord(&e.rec))
	}
	slices.SortFunc(out, func(a, b SendRecord) int { return a.Queued.Compare(b.Queued) })
	return out
}

// SendOf returns how far one own message got, by its message ID or, for
// a sealed offer, its offer ID (which is not the hash of its wire bytes).
func (n *Node) SendOf(id intent.ID) (SendRecord, bool) {
	n.outbox.mu.Lock()
	defer n.outbox.mu.Unlock()
	if e, ok := n.outbox.msgs[id]; ok {
		return sendRecord(&e.rec), true
	}
	if e, ok := n.outbox.byOffer[id]; ok {
		return sendRecord(&e.rec), true
	}
	return SendRecord{}, false
}
