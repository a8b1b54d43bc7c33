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
	errWrongTopic   = fmt.Errorf("%w: message kind or category does not belong on this topic", intent.ErrSchema)
	errUnknown      = errors.New("names an intent this node does not know")
	errReplay       = errors.New("already seen (replay)")
	errCancelled    = errors.New("intent was cancelled")
	errOfferLimit   = errors.New("too many offers for one intent")
	errLiveSetFull  = errors.New("live intent set is full")
	errStoreFailure = errors.New("store failure")
)

// verdict maps a validation error to gossipsub's three-way result.
func verdict(err error) pubsub.ValidationResult {
	switch {
	case err == nil:
		return pubsub.ValidationAccept
	case intent.Ignorable(err), errors.Is(err, errUnknown), errors.Is(err, errReplay),
		errors.Is(err, errCancelled), errors.Is(err, errOfferLimit), errors.Is(err, errLiveSetFull),
		errors.Is(err, errStoreFailure), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return pubsub.ValidationIgnore
	}
	return pubsub.ValidationReject
}

// validator returns the pubsub validator of one topic.
func (n *Node) validator(category string, offers bool) pubsub.ValidatorEx {
	return func(ctx context.Context, from peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
		m, err := n.check(ctx, category, offers, msg.Data)
		res := verdict(err)
		if res == pubsub.ValidationAccept {
			msg.ValidatorData = m
		} else {
			n.metrics.dropped(res)
			n.log.Debug("gossip dropped", "topic", msg.GetTopic(), "from", from, "verdict", res, "err", err)
		}
		return res
	}
}

// check runs every rule on one wire message, cheapest first: the protocol's
// stateless checks (size, decode, canonical, schema, work, signature, time
// window) and then this node's state (known intent, tombstones, replays).
func (n *Node) check(ctx context.Context, category string, offers bool, data []byte) (any, error) {
	m, err := intent.Parse(data)
	if err != nil {
		return nil, err
	}
	now := n.now()
	switch m := m.(type) {
	case *intent.SignedIntent:
		if offers || m.Body.Category != category {
			return nil, errWrongTopic
		}
		if err := m.Validate(now, n.cfg.Policy); err != nil {
			return nil, err
		}
		if _, err := n.store.Tombstone(ctx, m.ID); err == nil {
			return nil, fmt.Errorf("intent %s: %w", m.ID.Short(), errCancelled)
		}
		if c := n.pending.take(m.ID, now); c != nil && c.Validate(m, now, n.cfg.Policy) == nil {
			// Its cancel overtook it: keep the tombstone, drop the intent.
			if err := n.store.PutTombstone(ctx, store.Tombstone{
				IntentID: m.ID, Category: m.Body.Category, Raw: c.Raw, IntentRaw: m.Raw, Expires: m.Body.ExpiresAt(),
			}); err != nil {
				return nil, fmt.Errorf("%w: %w", errStoreFailure, err)
			}
			return nil, fmt.Errorf("intent %s: %w (its cancel came first)", m.ID.Short(), errCancelled)
		}
		if err := n.markSeen(ctx, m.ID, m.Body.ExpiresAt()); err != nil {
			return nil, err
		}
		if !n.live.add(m, now) {
			return nil, errLiveSetFull
		}
	case *intent.SignedCancel:
		if offers {
			return nil, errWrongTopic
		}
		in, err := n.knownIntent(m.IntentID, category)
		if errors.Is(err, errUnknown) {
			n.pending.put(m, now.Add(n.cfg.Policy.Skew()))
		}
		if err != nil {
			return nil, err
		}
		if err := m.Validate(in, now, n.cfg.Policy); err != nil {
			return nil, err
		}
		if err := n.markSeen(ctx, m.ID, in.Body.ExpiresAt()); err != nil {
			return nil, err
		}
	case *intent.SealedOffer:
		if !offers {
			return nil, errWrongTopic
		}
		in, err := n.knownIntent(m.IntentID, category)
		if err != nil {
			return nil, err
		}
		if !n.live.countOffer(in.ID, n.cfg.MaxOffersPerIntent) {
			return nil, fmt.Errorf("intent %s: %w (%d)", in.ID.Short(), errOfferLimit, n.cfg.MaxOffersPerIntent)
		}
		if err := n.markSeen(ctx, m.ID, in.Body.ExpiresAt()); err != nil {
			return nil, err
		}
	case *intent.SignedAccept:
		if !offers {
			return nil, errWrongTopic
		}
		in, err := n.knownIntent(m.IntentID, category)
		if err != nil {
			return nil, err
		}
		if err := m.Validate(in, now, n.cfg.Policy); err != nil {
			return nil, err
		}
		if err := n.markSeen(ctx, m.ID, in.Body.ExpiresAt()); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// knownIntent finds the intent a cancel, offer or accept names. Not knowing
// it is Ignore (we may have joined late); knowing it under another category
// is Reject (the sender put it on the wrong topic, which no honest node does).
func (n *Node) knownIntent(id intent.ID, category string) (*intent.SignedIntent, error) {
	in, ok := n.live.get(id)
	if !ok {
		return nil, fmt.Errorf("intent %s: %w", id.Short(), errUnknown)
	}
	if in.Body.Category != category {
		return nil, errWrongTopic
	}
	return in, nil
}

// markSeen is the replay index: a message passes once, also across
// restarts, and is remembered until the intent it belongs to expires (plus
// the allowed skew, so a replay cannot slip in as the clocks disagree).
func (n *Node) markSeen(ctx context.Context, id intent.ID, until time.Time) error {
	fresh, err := n.replay.markSeen(ctx, id, until.Add(n.cfg.Policy.Skew()))
	if err != nil {
		return fmt.Errorf("%w: %w", errStoreFailure, err)
	}
	if !fresh {
		return fmt.Errorf("%s: %w", id.Short(), errReplay)
	}
	return nil
}
