package node

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net"
	"regexp"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// TopicPrefix starts every intentcast topic. The router refuses to join any
// other topic (Join fails) and ignores peers' subscriptions to others.
const TopicPrefix = "intentcast/1/"

// gossipSubProtocol is gossipsub v1.2 (mesh, peer exchange, IDONTWANT) under
// our own protocol ID. It keeps the intentcast overlay apart from the public
// libp2p gossipsub network (whose peers we will meet through the DHT) and
// from its 1 MiB message limit, as go-libp2p-pubsub advises for a custom
// WithMaxMessageSize.
const gossipSubProtocol = protocol.ID("/intentcast/meshsub/1.2.0")

func gossipSubFeatures(feat pubsub.GossipSubFeature, proto protocol.ID) bool {
	if proto != gossipSubProtocol {
		return false
	}
	switch feat {
	case pubsub.GossipSubFeatureMesh, pubsub.GossipSubFeaturePX, pubsub.GossipSubFeatureIdontwant:
		return true
	}
	return false
}

// rpcEnvelope is room for what wraps a payload in a gossipsub RPC frame (the
// topic and protobuf framing, about 40 bytes plus the topic), so that a
// payload of exactly MaxMessageSize still fits in one frame.
const rpcEnvelope = 1 << 10

// maxSubscriptionsPerRPC caps the subscriptions one RPC may announce (the
// whole RPC is dropped beyond it). v1 defines about 30 topics; 128 leaves
// room to grow while no peer can make us track thousands of topics.
const maxSubscriptionsPerRPC = 128

// topicFilter admits only intentcast topics, both for our own joins and for
// the subscriptions peers announce.
var topicFilter = pubsub.WrapLimitSubscriptionFilter(
	pubsub.NewRegexpSubscriptionFilter(regexp.MustCompile("^"+regexp.QuoteMeta(TopicPrefix))),
	maxSubscriptionsPerRPC)

// newPubSub starts the gossipsub router on h; it runs until ctx is done.
// The options that anonymity depends on:
//   - StrictNoSign and WithNoAuthor: messages carry no peer ID, sequence
//     number, signature or key (StrictNoSign alone still sends the first two),
//     and incoming messages that carry any of them are rejected.
//   - messageID: a content hash, because with no author the library's default
//     ID is empty for every message.
//   - no flood publishing: our own messages go to our mesh peers like any
//     relayed message, instead of to every peer at once, which would point at
//     us as the origin.
//
// tracer may be nil. extra options come last, after peer scoring is set up
// (WithPeerScoreInspect must follow WithPeerScore).
func newPubSub(ctx context.Context, h host.Host, cfg Config, tracer pubsub.RawTracer, extra ...pubsub.Option) (*pubsub.PubSub, error) {
	boot, err := cfg.bootstrapPeers()
	if err != nil {
		return nil, err
	}
	trusted := make(map[peer.ID]bool, len(boot))
	for _, b := range boot {
		trusted[b.ID] = true
	}
	opts := []pubsub.Option{
		pubsub.WithGossipSubProtocols([]protocol.ID{gossipSubProtocol}, gossipSubFeatures),
		pubsub.WithMessageSignaturePolicy(pubsub.StrictNoSign),
		pubsub.WithNoAuthor(),
		pubsub.WithMessageIdFn(messageID),
		pubsub.WithFloodPublish(false),
		// We prune with peer exchange so that joiners learn more peers from a
		// busy (bootstrap) node; we accept it only above acceptPXThreshold.
		pubsub.WithPeerExchange(true),
		pubsub.WithPeerScore(scoreParams(trusted), scoreThresholds()),
		pubsub.WithSubscriptionFilter(topicFilter),
		pubsub.WithMaxMessageSize(cfg.MaxMessageSize + rpcEnvelope),
		pubsub.WithValidateQueueSize(cfg.ValidateQueueSize),
		pubsub.WithValidateWorkers(cfg.ValidateConcurrency),
		pubsub.WithLogger(cfg.Logger.With("component", "pubsub")),
	}
	if tracer != nil {
		opts = append(opts, pubsub.WithRawTracer(tracer))
	}
	opts = append(opts, extra...)
	ps, err := pubsub.NewGossipSub(ctx, h, opts...)
	if err != nil {
		return nil, fmt.Errorf("gossipsub: %w", err)
	}
	return ps, nil
}

// messageID is the gossipsub message ID: the SHA-256 of the payload, as 32
// raw bytes. For an intent it is also the intent ID.
func messageID(m *pb.Message) string {
	sum := sha256.Sum256(m.Data)
	return string(sum[:])
}

// Peer scoring. Scores are on one scale: a single invalid message costs 100,
// and everything a peer can earn by behaving well adds up to at most 20
// (topicScoreCap), so good behaviour cannot buy room for abuse.
const (
	// One invalid message (-100, or -80 with full credit) puts a peer below
	// both: we stop gossip (IHAVE/IWANT) with it and stop choosing it when
	// publishing to a topic we have not joined (fanout).
	gossipThreshold  = -40
	publishThreshold = -60
	// Two invalid messages (-400) and we ignore everything the peer sends.
	// A trusted bootstrap peer (+100) gets graylisted at the third.
	graylistThreshold = -300
	// Only peers whose bonus we configured (bootstrap peers) reach it:
	// ordinary peers earn at most 20, so peer exchange from strangers, an
	// eclipse vector, is ignored.
	acceptPXThreshold = 100
	// Graft better peers when the median mesh peer has earned less than two
	// first deliveries' worth: a mesh of idle peers (possibly sybils) gets
	// fresh blood.
	opportunisticGraftThreshold = 2

	// trustedPeerScore is the application-specific bonus of configured
	// bootstrap peers: exactly acceptPXThreshold, so their peer exchange
	// counts until they misbehave at all.
	trustedPeerScore = acceptPXThreshold
	topicScoreCap    = 20
	// A decay applied once a second that forgets an invalid message over 6
	// hours; RetainScore is the same, so reconnecting does not launder a
	// penalty.
	invalidMessageMemory = 6 * time.Hour
)

func scoreThresholds() *pubsub.PeerScoreThresholds {
	return &pubsub.PeerScoreThresholds{
		GossipThreshold:             gossipThreshold,
		PublishThreshold:            publishThreshold,
		GraylistThreshold:           graylistThreshold,
		AcceptPXThreshold:           acceptPXThreshold,
		OpportunisticGraftThreshold: opportunisticGraftThreshold,
	}
}

// scoreParams are the router-wide score parameters; trusted peers (the
// configured bootstrap peers) get trustedPeerScore. Topics starts empty, and
// each joined topic adds topicScoreParams to it (Topic.SetScoreParams writes
// into this map, so it must not be nil).
func scoreParams(trusted map[peer.ID]bool) *pubsub.PeerScoreParams {
	return &pubsub.PeerScoreParams{
		Topics:        make(map[string]*pubsub.TopicScoreParams),
		TopicScoreCap: topicScoreCap,

		// P5: the operator's trust in its bootstrap peers (see acceptPXThreshold).
		AppSpecificScore: func(p peer.ID) float64 {
			if trusted[p] {
				return 1
			}
			return 0
		},
		AppSpecificWeight: trustedPeerScore,

		// P6: more than 5 peers from one IP looks like sybils: 8 peers cost
		// 90 (no gossip, no fanout), 11 cost 360 (graylisted). Peers on our
		// own private network are exempt: a home or office may run many
		// nodes, and pubsub already exempts loopback.
		IPColocationFactorWeight:    -10,
		IPColocationFactorThreshold: 5,
		IPColocationFactorWhitelist: privateNets,

		// P7: broken IWANT promises and GRAFT before backoff. The first 6 are
		// free (slow links break promises too), then quadratic: 10 cost 160.
		BehaviourPenaltyWeight:    -10,
		BehaviourPenaltyThreshold: 6,
		BehaviourPenaltyDecay:     pubsub.ScoreParameterDecay(time.Hour),

		DecayInterval: pubsub.DefaultDecayInterval,
		DecayToZero:   pubsub.DefaultDecayToZero,
		RetainScore:   invalidMessageMemory,
	}
}

// topicScoreParams are the score parameters of every intentcast topic; set
// them with Topic.SetScoreParams right after joining: invalid messages only
// count against a peer on topics that have score parameters.
// Intent traffic is sparse and bursty (a quiet category may see nothing for
// an hour), so only counters that need no expected message rate are on.
func topicScoreParams() *pubsub.TopicScoreParams {
	return &pubsub.TopicScoreParams{
		// Every topic counts the same; topicScoreCap bounds the sum.
		TopicWeight: 1,

		// P1: a tie-breaker for long-lived mesh peers, +1 after an hour.
		TimeInMeshWeight:  1.0 / 60,
		TimeInMeshQuantum: time.Minute,
		TimeInMeshCap:     60,

		// P2: +1 per new valid message a peer brought us first, up to 10,
		// forgotten over an hour: rewards useful peers without letting them
		// bank credit.
		FirstMessageDeliveriesWeight: 1,
		FirstMessageDeliveriesDecay:  pubsub.ScoreParameterDecay(time.Hour),
		FirstMessageDeliveriesCap:    10,

		// P3, P3b: off. Mesh delivery penalties need a steady expected rate;
		// in a quiet category they would punish honest peers for silence.
		MeshMessageDeliveriesWeight: 0,
		MeshFailurePenaltyWeight:    0,

		// P4: invalid messages cost 100 times their count squared: 1 costs
		// 100, 2 cost 400 (graylisted), 3 cost 900. A validator Rejects only
		// what no honest node would forward, so there is no need to be lenient.
		InvalidMessageDeliveriesWeight: -100,
		InvalidMessageDeliveriesDecay:  pubsub.ScoreParameterDecay(invalidMessageMemory),
	}
}

// privateNets are the address ranges of our own network (RFC 1918, IPv6
// unique local and link-local), exempt from the IP-colocation penalty.
var privateNets = func() []*net.IPNet {
	var nets []*net.IPNet
	for _, s := range []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7", "fe80::/10"} {
		_, n, err := net.ParseCIDR(s)
		if err != nil {
			panic(err)
		}
		nets = append(nets, n)
	}
	return nets
}()
