package node

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	corenet "github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/intentcast/intentcast/intent"
)

// The relay side of /intentcast/stem/1, and the hand-over both sides use.

// handle takes one stem stream: one frame, acknowledged by closing the
// stream once it is read, then checked and forwarded or fluffed. ctx ends
// when the stem stops serving.
func (s *stemRelay) handle(ctx context.Context, st corenet.Stream) {
	p := st.Conn().RemotePeer()
	ctx, cancel := context.WithTimeout(ctx, stemHandleTimeout)
	defer cancel()
	slot, _ := s.streams.admit(p, cancel)
	if slot == nil {
		s.count(func(c *StemStats) { c.Refused++ })
		st.Reset()
		return
	}
	defer s.streams.done(slot)
	stop := context.AfterFunc(ctx, func() { st.Reset() })
	st.SetReadDeadline(time.Now().Add(stemFrameTimeout))
	data, _, err := readFrame(bufio.NewReaderSize(st, 1<<10), stemMaxFrame)
	if !stop() {
		return // the node is closing, or the peer was too slow: reset
	}
	if err != nil {
		st.Reset()
		if errors.Is(err, errSyncViolation) {
			s.reject(p, fmt.Errorf("%w: %w", errStemViolation, err))
		}
		return
	}
	// The acknowledgment: the sender waits for the end of the stream. It
	// comes before the checks and the forwarding, so the sender learns
	// nothing from its timing (nor waits for the rest of the stem).
	st.Close()
	f, err := parseStemFrame(data)
	if err != nil {
		s.reject(p, err)
		return
	}
	if tr, ok := s.cfg.Tracer.(StemTracer); ok {
		tr.StemFrame(p, f.Msg)
	}
	s.take(ctx, p, f)
}

// take acts on one valid frame from p. A message this node already holds
// on its stem, its own or one it forwarded, has looped or been bounced
// back: origin and relay alike check it and fluff it, so that a successor
// that sends a message back learns nothing from the answer. Any other is
// forwarded to a successor other than p, or fluffed by a diffuser (or when
// no successor takes it).
func (s *stemRelay) take(ctx context.Context, p peer.ID, f *stemFrame) {
	n := s.node
	id := intent.IDOf(f.Msg)
	if !slices.Contains(s.cfg.Categories, f.Category) {
		// The sender's view of our topics was stale; it is not invalid.
		s.count(func(c *StemStats) { c.Ignored++ })
		return
	}
	own := s.ownEntry(id)
	mode := checkStem
	if own != nil {
		mode = checkOwn // the same rules; an own cancel may name an own intent on its stem
	}
	m, err := n.checkWith(ctx, "", f.Category, f.offers(), f.Msg, mode)
	if _, offer := m.(*intent.SealedOffer); err == nil && offer {
		err = fmt.Errorf("%w: sealed offers are not stemmed", errStemViolation)
	}
	switch verdict(err) {
	case pubsub.ValidationReject:
		s.reject(p, err)
		return
	case pubsub.ValidationIgnore:
		s.count(func(c *StemStats) { c.Ignored++ })
		s.log.Debug("stem: message ignored", "peer", p, "id", id.Short(), "err", err)
		return
	}
	s.count(func(c *StemStats) { c.Received++ })
	switch {
	case own != nil:
		s.count(func(c *StemStats) { c.Looped++ })
		if err := s.release(ctx, own, releaseLoop); err != nil && ctx.Err() == nil {
			s.log.Debug("stem: fluff of an own message that came back", "id", id.Short(), "err", err)
		}
	case s.isDiffuser():
		s.fluff(ctx, f, id)
	default:
		// Held before it is forwarded: a successor that bounces it at
		// once must find it here, and a message seen before is not new.
		e, fresh := s.hold(f, id)
		if !fresh {
			s.count(func(c *StemStats) { c.Looped++ })
			s.fluff(ctx, f, id)
			return
		}
		via, ok := s.forward(ctx, *f, p)
		if !ok {
			s.fluff(ctx, f, id)
			return
		}
		s.count(func(c *StemStats) { c.Forwarded++ })
		if e != nil {
			s.mu.Lock()
			e.via = via
			s.mu.Unlock()
			s.arm(e)
		}
	}
}

// forward hands a frame to this node's successor (the next by rank if the
// first does not take it), never to from, and returns the one that took
// it, if any.
func (s *stemRelay) forward(ctx context.Context, f stemFrame, from peer.ID) (peer.ID, bool) {
	for _, p := range s.successors(f.Category, f.offers(), from, stemTries) {
		err := s.send(ctx, p, f)
		if err == nil {
			return p, true
		}
		if ctx.Err() != nil {
			return "", false
		}
		s.log.Debug("stem: successor did not take the message", "peer", p, "err", err)
	}
	return "", false
}

// fluff ends a stem: the message is published into gossip through the
// node's topic, whose validator checks it again and marks it seen, like
// any message this node relays.
func (s *stemRelay) fluff(ctx context.Context, f *stemFrame, id intent.ID) {
	s.forget(id)
	if err := s.node.publishGossip(ctx, f.Category, f.offers(), f.Msg); err != nil {
		if ctx.Err() == nil {
			s.log.Debug("stem: fluff", "id", id.Short(), "err", err)
		}
		return
	}
	s.count(func(c *StemStats) { c.Fluffed++ })
}

// hold keeps a message about to be forwarded, for its fail-safe (set once
// a successor took it) and to tell a loop or a bounce from a first copy.
// It reports whether the message is new here; e is nil when the bounds are
// reached (then the message is forwarded without a timer: the origin's
// still runs).
func (s *stemRelay) hold(f *stemFrame, id intent.ID) (e *stemEntry, fresh bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.relayed[id]; ok {
		return nil, false
	}
	if len(s.relayed) >= stemMaxRelayed || s.relayedBytes+len(f.Msg) > stemMaxRelayedBytes {
		return nil, true
	}
	e = &stemEntry{id: id, category: f.Category, offers: f.offers(), raw: f.Msg}
	s.relayed[id] = e
	s.relayedBytes += len(e.raw)
	return e, true
}

// forget drops a relayed message from the fail-safe.
func (s *stemRelay) forget(id intent.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.relayed[id]
	if !ok {
		return
	}
	delete(s.relayed, id)
	s.relayedBytes -= len(e.raw)
	s.timers.remove(e)
}

// expireRelayed is a relay's fail-safe: a message it forwarded that has not
// come by gossip since is published from here.
func (s *stemRelay) expireRelayed(ctx context.Context, e *stemEntry) {
	s.forget(e.id)
	if s.node.seen(e.id) {
		return
	}
	s.lost(e.via)
	if err := s.node.publishGossip(ctx, e.category, e.offers, e.raw); err != nil {
		if ctx.Err() == nil {
			s.log.Debug("stem: relay fail-safe publish", "id", e.id.Short(), "err", err)
		}
		return
	}
	s.count(func(c *StemStats) { c.RelayFailSafe++ })
}

// send hands one frame to p: it opens a stream, writes the frame, closes its
// side and waits for p to close the stream (p's acknowledgment that it read
// the frame).
func (s *stemRelay) send(ctx context.Context, p peer.ID, f stemFrame) error {
	ctx, cancel := context.WithTimeout(ctx, stemSendTimeout)
	defer cancel()
	buf, err := appendFrame(nil, f)
	if err != nil {
		return err
	}
	st, err := s.host.NewStream(ctx, p, stemProtocol)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { st.Reset() })
	defer stop()
	st.SetDeadline(time.Now().Add(stemSendTimeout))
	if _, err := st.Write(buf); err != nil {
		st.Reset()
		return err
	}
	if err := st.CloseWrite(); err != nil {
		st.Reset()
		return err
	}
	var b [1]byte
	if k, err := st.Read(b[:]); k > 0 || !errors.Is(err, io.EOF) {
		st.Reset()
		return fmt.Errorf("%w: %v", errStemNoAck, err)
	}
	return st.Close()
}
