package node

import (
	"context"
	"errors"
	"fmt"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/intentcast/intentcast/intent"
)

// joinTopics joins and subscribes to both topics of every configured
// category, at start. A customer's node is subscribed to the offers topics
// before it ever publishes, so no subscription singles out which intent is
// its own; and every node relays both kinds of traffic.
func (n *Node) joinTopics() error {
	for _, c := range n.cfg.Categories {
		for _, offers := range []bool{false, true} {
			name := intent.IntentTopic(c)
			if offers {
				name = intent.OfferTopic(c)
			}
			sub, err := n.joinTopic(name, n.validator(c, offers))
			if err != nil {
				return err
			}
			n.serve("delivery "+name, serviceFunc(func(ctx context.Context) error {
				n.deliverLoop(ctx, sub, n.deliver)
				return nil
			}))
		}
	}
	return nil
}

// joinTopic registers a topic's validator, joins and subscribes to it.
func (n *Node) joinTopic(name string, v pubsub.ValidatorEx) (*pubsub.Subscription, error) {
	// Inline: the validator runs on the router's validation workers
	// (Config.ValidateConcurrency of them, see newPubSub) instead of a
	// goroutine per message under a per-topic cap. It is CPU-bound (one
	// signature check and lookups in memory; it writes the store only for
	// an intent whose cancel came first), so more goroutines than workers
	// buy nothing, and a cap hit during a burst dropped valid messages
	// that gossip then resent seconds later; the queue in front of the
	// workers (ValidateQueueSize) is the bound instead.
	if err := n.net.ps.RegisterTopicValidator(name, v,
		pubsub.WithValidatorInline(true),
		pubsub.WithValidatorTimeout(n.cfg.ValidateTimeout)); err != nil {
		return nil, fmt.Errorf("node: validator for %s: %w", name, err)
	}
	t, err := n.net.ps.Join(name)
	if err != nil {
		return nil, fmt.Errorf("node: join %s: %w", name, err)
	}
	if err := t.SetScoreParams(topicScoreParams()); err != nil {
		return nil, fmt.Errorf("node: score params for %s: %w", name, err)
	}
	n.topics[name] = t
	sub, err := t.Subscribe(pubsub.WithBufferSize(n.cfg.SubscriptionBuffer))
	if err != nil {
		return nil, fmt.Errorf("node: subscribe %s: %w", name, err)
	}
	return sub, nil
}

// deliverLoop hands each validated message to deliver until the node
// closes.
func (n *Node) deliverLoop(ctx context.Context, sub *pubsub.Subscription, deliver func(context.Context, any)) {
	defer sub.Cancel()
	for {
		msg, err := sub.Next(ctx)
		if err != nil {
			if !errors.Is(err, context.Canceled) && !errors.Is(err, pubsub.ErrSubscriptionCancelled) {
				n.log.Warn("subscription ended", "topic", sub.Topic(), "err", err)
			}
			return
		}
		// The router keeps the message in its gossip cache for seconds
		// after this (IWANT replies, mcache history), and the parse the
		// validator left on it is a dozen pointer-laden objects that the
		// collector would mark in every cycle meanwhile, for every
		// message: the parse leaves with delivery. This loop is the
		// only reader of ValidatorData: the router never reads it, and a
		// topic has one subscription.
		m := msg.ValidatorData
		msg.ValidatorData = nil
		deliver(ctx, m)
	}
}

// publish sends one of this node's own messages on a category's intents or
// offers topic: intents, cancels and accepts through the stem phase
// (stem.go) unless Config.DisableStem is set, sealed offers straight into
// gossip.
func (n *Node) publish(ctx context.Context, category string, offers bool, raw []byte) error {
	if n.cfg.DisableStem {
		return n.publishGossip(ctx, category, offers, raw)
	}
	return n.stem.publishOwn(ctx, category, offers, raw)
}

// topicPeers returns the peers the router knows to be on a topic.
func (n *Node) topicPeers(topic string) []peer.ID { return n.net.ps.ListPeers(topic) }

// seen reports whether a message is in the replay index: gossip or sync
// brought it (for the stem: came back), or the node holds a record of it.
func (n *Node) seen(id intent.ID) bool { return n.replay.seen(id) }

// publishGossip publishes a message into gossip on a category's intents or
// offers topic. The topic's validator checks it first, as any message this
// node relays.
func (n *Node) publishGossip(ctx context.Context, category string, offers bool, raw []byte) error {
	name := intent.IntentTopic(category)
	if offers {
		name = intent.OfferTopic(category)
	}
	if _, ok := n.topics[name]; !ok {
		return fmt.Errorf("%w: this node does not serve category %q (it serves %v)", ErrCategory, category, n.cfg.Categories)
	}
	return n.publishOn(ctx, name, raw)
}

// publishOn publishes into gossip on a joined topic.
func (n *Node) publishOn(ctx context.Context, name string, raw []byte) error {
	t := n.topics[name]
	// Wait a little for a mesh peer: a message published into an empty mesh
	// only spreads by gossip, late. If none comes, publish anyway: the
	// message is stored, and gossip and sync carry it on.
	// A node with no peers on the topic at all sends at once.
	wait := n.cfg.PublishWait
	if len(t.ListPeers()) == 0 {
		wait = 0
	}
	ready, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	err := t.Publish(ready, raw, pubsub.WithReadiness(pubsub.MinTopicSize(1)))
	if err != nil && ctx.Err() == nil && ready.Err() != nil {
		n.log.Warn("publishing with no mesh peer yet", "topic", name)
		err = t.Publish(ctx, raw)
	}
	if err != nil {
		return fmt.Errorf("publish on %s: %w", name, err)
	}
	return nil
}

// ErrCategory reports a category this node does not serve.
var ErrCategory = errors.New("category not served")
