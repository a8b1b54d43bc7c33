package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node/store"
)

// The validators are where the protocol's rules meet gossip: a message is
// forwarded and delivered only if they Accept it. Reject penalises the peer
// that sent it (the message is invalid for every honest node); Ignore drops it
// silently (it depends on time or on what this node knows).
var (
	errWrongTopic   = fmt.Errorf("%w: it names an intent of another category", intent.ErrWrongTopic)
	errUnknown      = errors.New("names an intent this node does not know")
	errReplay       = errors.New("already seen (replay)")
	errClosed       = errors.New("intent was closed (cancelled or accepted)")
	errLiveSetFull  = errors.New("live intent set is full")
	errStoreFailure = errors.New("store failure")
)

// verdict maps a validation error to gossipsub's three-way result.
func verdict(err error) pubsub.ValidationResult {
	switch {
	case err == nil:
		return pubsub.ValidationAccept
	case intent.Ignorable(err), errors.Is(err, errUnknown), errors.Is(err, errReplay),
		errors.Is(err, errClosed), errors.Is(err, errLiveSetFull),
		errors.Is(err, errStoreFailure), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return pubsub.ValidationIgnore
	}
	return pubsub.ValidationReject
}

// validator returns the pubsub validator of one category topic.
func (n *Node) validator(category string, offers bool) pubsub.ValidatorEx {
	check := n.validatorOf(func(ctx context.Context, from peer.ID, data []byte) (any, error) {
		return n.checkRouted(ctx, from, category, offers, data)
	}, verdict)
	return func(ctx context.Context, from peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
		if from == n.ID() && n.forwarder.passes(msg.Data) {
			// This node's forward of what sync took: checked and
			// delivered then, so nothing to deliver now (forwarder).
			return pubsub.ValidationAccept
		}
		return check(ctx, from, msg)
	}
}

// validatorOf makes a pubsub validator of a check and its verdicts: an
// accepted message goes to delivery as the check returned it, a dropped
// one is counted and logged.
func (n *Node) validatorOf(check func(context.Context, peer.ID, []byte) (any, error), verdictOf func(error) pubsub.ValidationResult) pubsub.ValidatorEx {
	return func(ctx context.Context, from peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
		m, err := check(ctx, from, msg.Data)
		res := verdictOf(err)
		if res == pubsub.ValidationAccept {
			msg.ValidatorData = m
		} else {
			n.metrics.dropped(res)
			n.logDropped(msg.GetTopic(), from, res, err)
		}
		return res
	}
}

// check is checkRouted of a message no peer is charged for (CheckMessage).
func (n *Node) check(ctx context.Context, category string, offers bool, data []byte) (any, error) {
	return n.checkRouted(ctx, "", category, offers, data)
}

// checkFrom runs every rule on one wire message a peer sent by sync (the
// router's are checkRouted's), cheapest first: the protocol's stateless
// checks (size, decode, canonical, schema, work, signature, time window)
// and then this node's state (known intent, tombstones, replays). An
// accepted message is marked seen, and an accepted intent joins the live
// set. from is whom a cancel held for its intent is charged to
// (pending.go).
func (n *Node) checkFrom(ctx context.Context, from peer.ID, category string, offers bool, data []byte) (any, error) {
	return n.checkWith(ctx, from, category, offers, data, checkGossip)
}

// checkRouted is checkFrom of a message the gossip router holds. The router
// never writes a message's Data, so the parse keeps data itself rather than
// a copy (intent.ParseOwned): a relay allocates one copy less per message,
// and its live set holds the router's bytes.
func (n *Node) checkRouted(ctx context.Context, from peer.ID, category string, offers bool, data []byte) (any, error) {
	m, err := n.parse(from == n.ID(), data, intent.ParseOwned)
	if err != nil {
		return nil, err
	}
	return n.checkParsed(ctx, from, category, offers, m, checkGossip)
}

// checkMode says what a check may change.
type checkMode uint8

const (
	// checkGossip changes state: the message is marked seen (so it passes
	// once), an intent joins the live set, a cancel of an unknown intent is
	// kept as pending and a pending cancel is applied, an offer is counted.
	checkGossip checkMode = iota
	// checkStem runs every rule and reads the same state (a message already
	// seen is a replay) but changes nothing: a stem relay (stem.go) checks a
	// message it may only pass on, and marks it seen when it publishes it
	// through gossip, whose validator then runs checkGossip. Had the relay
	// marked it seen here, its own publish, and the message coming back to
	// it by gossip, would be refused as replays.
	checkStem
	// checkOwn is checkStem for this node's own messages before they leave
	// it: a cancel or accept may name an own intent that is still in its
	// stem phase (not yet in the live set).
	checkOwn
)

// checkWith is checkFrom in any mode. It parses with intent.Parse, which
// copies a signed message: only the router's messages (checkRouted) are
// known never to be written.
func (n *Node) checkWith(ctx context.Context, from peer.ID, category string, offers bool, data []byte, mode checkMode) (any, error) {
	m, err := n.parse(from == n.ID() || mode == checkOwn, data, intent.Parse)
	if err != nil {
		return nil, err
	}
	return n.checkParsed(ctx, from, category, offers, m, mode)
}

// checkParsed runs checkWith's rules on a parsed message.
func (n *Node) checkParsed(ctx context.Context, from peer.ID, category string, offers bool, m any, mode checkMode) (any, error) {
	mark := mode == checkGossip
	if err := intent.CheckTopic(m, category, offers); err != nil {
		return nil, err
	}
	now := n.now()
	switch m := m.(type) {
	case *intent.SignedIntent:
		if err := m.Validate(now, n.cfg.Policy); err != nil {
			return nil, err
		}
		if n.tombs.has(m.ID) {
			return nil, fmt.Errorf("intent %s: %w", m.ID.Short(), errClosed)
		}
		if !mark {
			if err := n.notSeen(m.ID); err != nil {
				return nil, err
			}
			break
		}
		if c := n.overtaken(m, now); c != nil {
			// Its cancel overtook it: keep the tombstone, drop the intent.
			if err := n.putTombstone(ctx, store.Tombstone{
				IntentID: m.ID, Category: m.Body.Category, Raw: c.Raw, IntentRaw: m.Raw, Expires: m.Body.ExpiresAt(),
			}); err != nil {
				return nil, fmt.Errorf("%w: %w", errStoreFailure, err)
			}
			return nil, fmt.Errorf("intent %s: %w (its cancel came first)", m.ID.Short(), errClosed)
		}
		if err := n.markSeen(m.ID, m.Body.ExpiresAt(), false); err != nil {
			return nil, err
		}
		if !n.live.add(m, now) {
			// Not taken, so not seen: it may come again (gossip, sync)
			// once the set has room.
			n.replay.forget(m.ID)
			return nil, errLiveSetFull
		}
	case *intent.SignedCancel:
		in, err := n.knownSigned(m.IntentID, category, mode)
		if errors.Is(err, errUnknown) && mark {
			n.pending.put(m, from, now.Add(n.cfg.Policy.Skew()))
		}
		if err != nil {
			return nil, err
		}
		if err := m.Validate(in, now, n.cfg.Policy); err != nil {
			return nil, err
		}
		if err := n.seenCheck(m.ID, in.Body.ExpiresAt(), mark, !n.hasStake(m.IntentID)); err != nil {
			return nil, err
		}
	case *intent.SealedOffer:
		// Work, not a count per intent, is what bounds offer floods: no
		// relay can tell a real offer from sealed junk, so any first-come
		// limit would let junk crowd real offers out (docs/PROTOCOL.md,
		// Proof of work). Junk without the work is provable: Reject.
		if err := m.CheckWork(n.cfg.Policy); err != nil {
			return nil, err
		}
		// An offer to an own intent is stored as received (deliverOffer),
		// which is its durable replay entry (replayIndex.seed).
		if err := n.checkSealed(m.IntentID, m.ID, category, mode, !n.isOwn(m.IntentID)); err != nil {
			return nil, err
		}
	case *intent.SealedThread:
		// A thread message is sealed junk to relays too: the same work
		// bounds it, and an intent unknown here (closed, expired) ends its
		// threads.
		if err := m.CheckWork(n.cfg.Policy); err != nil {
			return nil, err
		}
		if err := n.checkSealed(m.IntentID, m.ID, category, mode, true); err != nil {
			return nil, err
		}
	case *intent.SignedAccept:
		in, err := n.knownSigned(m.IntentID, category, mode)
		if err != nil {
			return nil, err
		}
		if err := m.Validate(in, now, n.cfg.Policy); err != nil {
			return nil, err
		}
		if err := n.seenCheck(m.ID, in.Body.ExpiresAt(), mark, !n.hasStake(m.IntentID)); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// parse is intent.Parse, but an own intent that send's check validated
// (outbox.ownChecked) is taken as that check parsed it, so its signature
// is verified once however often it is checked again: by the stem as it
// leaves (checkOwn), and by the router's validator as this node publishes
// it into gossip (the only messages "from" this node). Every other rule
// runs again. own says the message is one of this node's: data is looked
// up by its hash, so only the very bytes send checked match. parseWire is
// intent.Parse or intent.ParseOwned.
func (n *Node) parse(own bool, data []byte, parseWire func([]byte) (any, error)) (any, error) {
	if own {
		if in := n.outbox.ownChecked(data); in != nil {
			return in, nil
		}
	}
	return parseWire(data)
}

// checkSealed is what a relay checks of a sealed message after its work:
// the intent it names is live here, under the topic's category, and the
// message is new. persist is seenCheck's.
func (n *Node) checkSealed(intentID, id intent.ID, category string, mode checkMode, persist bool) error {
	in, err := n.knownFor(intentID, category, mode)
	if err != nil {
		return err
	}
	return n.seenCheck(id, in.expiresAt(), mode == checkGossip, persist)
}

// overtaken returns the first held cancel of in that is valid for it, if
// any; the others are dropped with it.
func (n *Node) overtaken(in *intent.SignedIntent, now time.Time) *intent.SignedCancel {
	for _, p := range n.pending.take(in.ID, now) {
		if p.c.Validate(in, now, n.cfg.Policy) == nil {
			return p.c
		}
	}
	return nil
}

// knownFor is knownIntent, and for checkOwn also this node's own intents
// still in their stem phase. Only the node's own messages get that
// fallback: a relay on the stem does not hold the intent either, and a
// node that accepted others' messages about an intent no one else knows
// would show itself as its origin.
func (n *Node) knownFor(id intent.ID, category string, mode checkMode) (liveEntry, error) {
	e, err := n.knownIntent(id, category)
	if errors.Is(err, errUnknown) && mode == checkOwn && n.stem != nil {
		if own, ok := n.stem.ownIntent(id); ok {
			if own.Body.Category != category {
				return liveEntry{}, errWrongTopic
			}
			return liveEntryOf(own, n.now()), nil
		}
	}
	return e, err
}

// knownSigned is knownFor, parsed: what a cancel or an accept is checked
// against.
func (n *Node) knownSigned(id intent.ID, category string, mode checkMode) (*intent.SignedIntent, error) {
	e, err := n.knownFor(id, category, mode)
	if err != nil {
		return nil, err
	}
	return e.intent(id)
}

// seenCheck marks id seen (mark) or only reports whether it was. persist
// is markSeen's: false for a message whose delivery stores a record of it
// through the store's queue (storeBehind), which then is its durable
// entry. Its entry written by the replay flusher could be written before
// that record, and a crash between the two would leave a node that
// refuses the message when sync brings it back, after it reported it.
func (n *Node) seenCheck(id intent.ID, until time.Time, mark, persist bool) error {
	if mark {
		return n.markSeen(id, until, persist)
	}
	return n.notSeen(id)
}

// hasStake reports whether a closure of the intent is stored by
// closeIntent's own transaction, not by the replay flusher: the intent is
// this node's own, or this node sent offers to it.
func (n *Node) hasStake(intentID intent.ID) bool {
	if n.isOwn(intentID) {
		return true
	}
	live, ok := n.live.peek(intentID)
	return ok && live.sent > 0
}

// notSeen is markSeen's question without its answer's side effect: an error
// wrapping errReplay if id was seen.
func (n *Node) notSeen(id intent.ID) error {
	if n.replay.seen(id) {
		return fmt.Errorf("%s: %w", id.Short(), errReplay)
	}
	return nil
}

// knownIntent finds what the live set keeps of the intent a cancel, offer
// or accept names: enough for a sealed message, which a relay checks
// against the intent's category and expiry only; a cancel or an accept
// parses it (knownSigned). Not knowing it is Ignore (we may have joined
// late); knowing it under another category is Reject (the sender put it
// on the wrong topic, which no honest node does).
func (n *Node) knownIntent(id intent.ID, category string) (liveEntry, error) {
	e, ok := n.live.peek(id)
	if !ok {
		return liveEntry{}, fmt.Errorf("intent %s: %w", id.Short(), errUnknown)
	}
	if e.category.Value() != category {
		return liveEntry{}, errWrongTopic
	}
	return e, nil
}

// markSeen is the replay index: a message passes once, also across
// restarts, and is remembered until the intent it belongs to expires (plus
// the allowed skew, so a replay cannot slip in as the clocks disagree).
// persist is false for intents, whose live record is their durable entry,
// and for the messages seenCheck names.
func (n *Node) markSeen(id intent.ID, until time.Time, persist bool) error {
	if !n.replay.markSeen(id, until.Add(n.cfg.Policy.Skew()), persist) {
		return fmt.Errorf("%s: %w", id.Short(), errReplay)
	}
	return nil
}
