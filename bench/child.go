package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/intentcast/intentcast/crypto"
	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node"
)

// ChildMain runs one peer of a ProcSwarm: it reads the parent's requests
// from in, a JSON procMsg per line, and writes its replies and events to
// out. It returns when the parent sends "close" or closes in, after
// closing its peer.
func ChildMain(ctx context.Context, in io.Reader, out io.Writer) error {
	c := &child{out: bufio.NewWriter(out)}
	ctx, cancel := context.WithCancel(ctx)
	defer func() {
		c.close()
		cancel()
		c.wg.Wait()
	}()
	dec := json.NewDecoder(in)
	for {
		var m procMsg
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("child: read request: %w", err)
		}
		if m.Op == "publish" {
			// Publishes run side by side, as a node's API would run them.
			c.wg.Go(func() { c.reply(m, c.publish(ctx, m)) })
			continue
		}
		reply := procMsg{Op: m.Op, ID: m.ID}
		err := c.handle(ctx, m, &reply)
		if err != nil {
			reply.Err = err.Error()
		}
		c.send(reply)
		if m.Op == "close" {
			return nil
		}
	}
}

// child is the peer a ChildMain runs: a raw gossipsub peer or a node.
type child struct {
	payload int
	h       host.Host
	tr      *tracer
	raw     []*pubsub.Topic // raw: rawTopics[:len(raw)]
	nd      *node.Node      // intentcast
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	meter   selfMeter
	run     atomic.Uint32
	trip    atomic.Pointer[childTrip] // set for a round trip

	mu     sync.Mutex // guards out, sent and routed
	out    *bufio.Writer
	sent   map[uint64]bool  // messages of this run already reported "sent"
	routed map[uint64]int64 // when the router delivered a message of this run, until its "got"

	closeOnce sync.Once
}

// send writes one line to the parent. Each goes at once: an event
// carries the time it happened, and a peer sees a few dozen messages a
// second, too few for batching to save a write.
func (c *child) send(m procMsg) {
	b, err := json.Marshal(m)
	if err != nil {
		panic(fmt.Sprintf("child: %v", err)) // procMsg always marshals
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.out.Write(b)
	c.out.WriteByte('\n')
	c.out.Flush()
}

func (c *child) reply(m procMsg, err error) {
	r := procMsg{Op: m.Op, ID: m.ID}
	if err != nil {
		r.Err = err.Error()
	}
	c.send(r)
}

func (c *child) handle(ctx context.Context, m procMsg, r *procMsg) error {
	switch m.Op {
	case "start":
		return c.start(ctx, m, r)
	case "close":
		return c.close()
	}
	if c.h == nil {
		return fmt.Errorf("child: %q before start", m.Op)
	}
	switch m.Op {
	case "dial":
		for _, ai := range m.Dial {
			dctx, cancel := context.WithTimeout(ctx, dialTimeout)
			err := c.h.Connect(dctx, ai)
			cancel()
			if err != nil {
				return fmt.Errorf("dial %s: %w", ai.ID, err)
			}
		}
	case "mesh":
		r.Peers = len(c.h.Network().Peers())
		r.Changes = c.tr.meshChanges.Load()
		r.Mesh = make(map[string][]string)
		for _, topic := range c.topics() {
			for p := range c.tr.meshPeers(topic) {
				r.Mesh[topic] = append(r.Mesh[topic], p.String())
			}
		}
	case "run":
		c.mu.Lock()
		c.sent, c.routed = make(map[uint64]bool), make(map[uint64]int64)
		c.mu.Unlock()
		c.run.Store(m.Run)
		c.trip.Store(nil) // a load run, unless "trip" follows
	case "begin":
		return c.meter.beginPhase(ctx)
	case "end":
		st, err := c.meter.endPhase(ctx)
		r.Phase = &st
		return err
	case "trip":
		c.trip.Store(newChildTrip(m))
	case "counters":
		cs := sumTracers([]*tracer{c.tr})
		r.Counters = &cs
	default:
		return fmt.Errorf("child: unknown request %q", m.Op)
	}
	return nil
}

// topics are the topics whose meshes the parent awaits.
func (c *child) topics() []string {
	if c.nd != nil {
		return icTopics()
	}
	return rawTopics[:len(c.raw)]
}

// start builds the peer, as NewRawSwarm and NewICSwarmWith build each of
// theirs.
func (c *child) start(ctx context.Context, m procMsg, r *procMsg) error {
	if c.h != nil {
		return errors.New("child: started twice")
	}
	h, err := newHost()
	if err != nil {
		return err
	}
	c.h, c.payload = h, m.Payload
	c.tr = &tracer{onSend: c.onSend, onDeliver: c.onDeliver}
	life, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c.cancel = cancel
	switch m.System {
	case Raw, RawPolicy:
		if m.Payload < rawHeader {
			return fmt.Errorf("child: payload size %d is below the %d-byte header", m.Payload, rawHeader)
		}
		if m.Topics > len(rawTopics) {
			return fmt.Errorf("child: %d topics, at most %d", m.Topics, len(rawTopics))
		}
		ps, err := pubsub.NewGossipSub(life, h, rawOptions(c.tr, m.System == RawPolicy)...)
		if err != nil {
			return fmt.Errorf("gossipsub: %w", err)
		}
		for _, name := range rawTopics[:max(1, m.Topics)] {
			t, err := ps.Join(name)
			if err != nil {
				return err
			}
			sub, err := t.Subscribe(pubsub.WithBufferSize(1024))
			if err != nil {
				return err
			}
			c.raw = append(c.raw, t)
			c.wg.Go(func() { c.readRaw(life, sub) })
		}
	case Intentcast, IntentcastNoStem:
		c.nd, err = node.New(ctx, benchNodeConfig(h, c.tr, m.MinWork, m.System == IntentcastNoStem, ""))
		if err != nil {
			return err
		}
		c.wg.Go(func() { c.readNode(life) })
	default:
		return fmt.Errorf("child: unknown system %q", m.System)
	}
	r.Peer = &peer.AddrInfo{ID: h.ID(), Addrs: h.Addrs()}
	return nil
}

// key names a message of the run as the child's maps and event lines do:
// for intentcast the last 8 bytes of its signature, for raw its index.
func (c *child) key(data []byte) (uint64, bool) {
	if c.nd != nil {
		if len(data) < 8 {
			return 0, false
		}
		return sigTail(data), true
	}
	k, ok := rawIndex(data, c.run.Load())
	return uint64(k), ok
}

// onDeliver notes when the router delivers a message of the run; the
// reader sends it with the message's "got".
func (c *child) onDeliver(_ string, data []byte) {
	key, ok := c.key(data)
	if !ok {
		return
	}
	at := now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, seen := c.routed[key]; !seen && c.routed != nil {
		c.routed[key] = at
	}
}

// takeRouted returns (and forgets) when the router delivered the message
// named key, or 0 if it was not seen.
func (c *child) takeRouted(key uint64) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	at := c.routed[key]
	delete(c.routed, key)
	return at
}

// onSend reports the first time this peer queues a message of the run for
// another peer.
func (c *child) onSend(data []byte) {
	key, ok := c.key(data)
	if !ok {
		return
	}
	at := now()
	c.mu.Lock()
	first := c.sent != nil && !c.sent[key]
	if first {
		c.sent[key] = true
	}
	c.mu.Unlock()
	if !first {
		return
	}
	if c.nd != nil {
		c.send(procMsg{Op: "sent", Tail: key, At: at})
	} else {
		c.send(procMsg{Op: "sent", K: int(key), At: at})
	}
}

func (c *child) readRaw(ctx context.Context, sub *pubsub.Subscription) {
	defer sub.Cancel()
	for {
		m, err := sub.Next(ctx)
		if err != nil {
			return
		}
		if t := c.trip.Load(); t != nil {
			c.tripRaw(ctx, t, m.Data)
			continue
		}
		if k, ok := rawIndex(m.Data, c.run.Load()); ok {
			at := now()
			c.send(procMsg{Op: "got", K: k, At: at, Routed: c.takeRouted(uint64(k))})
		}
	}
}

// readNode follows the node's events as ICSwarm.read does.
func (c *child) readNode(ctx context.Context) {
	for ctx.Err() == nil {
		sub := c.nd.Subscribe()
		for e := range sub.C {
			if t := c.trip.Load(); t != nil {
				c.tripNode(ctx, t, e)
				continue
			}
			if e.Kind == node.EventIntent {
				at := now()
				c.send(procMsg{Op: "got", Intent: e.IntentID[:], At: at, Routed: c.takeRouted(sigTail(e.Intent.Intent.Raw))})
			}
		}
		sub.Close()
	}
}

func (c *child) publish(ctx context.Context, m procMsg) error {
	switch {
	case len(c.raw) > 0:
		if t := c.trip.Load(); t != nil {
			t.publishing(m.K)
		}
		return c.raw[0].Publish(ctx, rawPayload(c.payload, c.run.Load(), m.K, kindIntent, 0))
	case c.nd != nil:
		parsed, err := intent.Parse(m.Raw)
		if err != nil {
			return err
		}
		in, ok := parsed.(*intent.SignedIntent)
		if !ok {
			return fmt.Errorf("publish: a %T, not an intent", parsed)
		}
		var keys intent.Keys
		if keys.Signing, err = crypto.SigningKeyFromSeed(m.SigningKey); err != nil {
			return err
		}
		if keys.Reply, err = crypto.ReplyKeyFromBytes(crypto.Suite(m.ReplySuite), m.ReplyKey); err != nil {
			return err
		}
		return c.nd.PublishMinted(ctx, in, keys)
	}
	return errors.New("child: publish before start")
}

// close stops the peer; the readers end with it.
func (c *child) close() error {
	var errs []error
	c.closeOnce.Do(func() {
		if c.cancel != nil {
			c.cancel()
		}
		if c.nd != nil {
			errs = append(errs, c.nd.Close())
		}
		if c.h != nil {
			errs = append(errs, c.h.Close())
		}
	})
	return errors.Join(errs...)
}
