package node

import (
	"bytes"
	"sync"
	"testing"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
)

// deliveredTracer keeps every message its router delivered to the node's
// subscriptions: the same *pubsub.Message the router's gossip cache holds.
type deliveredTracer struct {
	noTrace
	mu   sync.Mutex
	msgs []*pubsub.Message
}

func (tr *deliveredTracer) DeliverMessage(msg *pubsub.Message) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.msgs = append(tr.msgs, msg)
}

// TestDeliveryDropsTheParse checks that a message the router keeps after
// delivery (its gossip cache holds it for seconds) no longer holds the
// validator's parse: in a relay that is a dozen pointer-laden objects per
// message, marked by the collector in every cycle while the router keeps
// the message.
func TestDeliveryDropsTheParse(t *testing.T) {
	cfg := nodeConfig(t)
	cfg.DisableStem = true // the intent reaches the relay by gossip, through its router
	customer := startNode(t, cfg)
	rcfg := nodeConfig(t)
	rcfg.Bootstrap = addrsOf(customer)
	tr := &deliveredTracer{}
	relay := startNode(t, rcfg, pubsub.WithRawTracer(tr))
	awaitNodeMeshes(t, []*Node{customer, relay})
	sub := relay.Subscribe()

	in, err := customer.Publish(t.Context(), laptopDraft(customer.now()), nil)
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	e := awaitEvent(t, sub, "the relay delivers the intent", func(e Event) bool {
		return e.Kind == EventIntent && e.IntentID == in.ID
	})
	if e.Intent == nil {
		t.Fatal("the intent's event carries no parsed intent")
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var found bool
	for _, msg := range tr.msgs {
		if !bytes.Equal(msg.Data, in.Raw) {
			continue
		}
		found = true
		if msg.ValidatorData != nil {
			t.Errorf("the router's copy of the delivered intent still holds the parse (%T)", msg.ValidatorData)
		}
	}
	if !found {
		t.Fatal("the relay's router traced no delivery of the intent")
	}
}
