package node

import (
	"bufio"
	"cmp"
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

// The asking side of /intentcast/sync/1, /2 and /3.

// errSyncClosed is a responder closing the stream before answering a
// request: it refused (rate limit, load) or ended the session at its bound.
var errSyncClosed = errors.New("sync peer closed the stream")

// syncPeer runs one session with p: for each category both serve, it asks
// for what this node lacks, and validates and delivers what comes back.
// A peer that sends anything invalid is dropped from sync for a while.
func (s *syncer) syncPeer(ctx context.Context, p peer.ID) error {
	ctx, cancel := context.WithTimeout(ctx, syncSessionTimeout)
	defer cancel()
	st, err := s.host.NewStream(ctx, p, syncProtocol3, syncProtocol2, syncProtocol)
	if err != nil {
		s.count(func(c *SyncStats) { c.Failed++ })
		return fmt.Errorf("sync with %s: %w", p, err)
	}
	stop := context.AfterFunc(ctx, func() { st.Reset() })
	defer stop()
	sess := &syncSession{s: s, st: st, r: bufio.NewReader(st), version: syncVersion(st)}
	err = sess.run(ctx)
	if errors.Is(err, errSyncClosed) && sess.rounds > 1 {
		err = nil // the responder answered what it would and ended the session
	}
	if err != nil {
		st.Reset()
		if errors.Is(err, errSyncViolation) {
			s.ban(p, err)
		}
		if errors.Is(err, errSyncClosed) {
			// Refused (its rate limit, its load): a node that just came
			// back must not wait for the next periodic sync to catch up.
			s.retry(p, s.cfg.SyncServeInterval)
		}
		s.count(func(c *SyncStats) { c.Failed++ })
		return fmt.Errorf("sync with %s: %w", p, err)
	}
	st.Close()
	s.count(func(c *SyncStats) { c.Sessions++ })
	s.log.Debug("synced", "peer", p, "version", sess.version, "rounds", sess.rounds, "intents", sess.intents, "closures", sess.tombs, "offers", sess.offers)
	return nil
}

// syncSession is the asking side of one stream.
type syncSession struct {
	s       *syncer
	st      corenet.Stream
	r       *bufio.Reader
	version int
	rounds  int
	// messages delivered in this session
	intents, tombs, offers int
}

// haveEntry is one ID prefix the requester lists: held live or as a
// tombstone.
type haveEntry struct {
	prefix uint64
	tomb   bool
}

// run asks, category by category, for the sets the stream's version
// carries and no other: a responder of an older version drops a peer that
// asks it for a set it does not know. Sets go in ascending order: offers
// after intents (an offer is checked against its intent), replies after
// ratings (a reply is checked against its rating).
func (ss *syncSession) run(ctx context.Context) error {
	for i, cat := range ss.s.categoriesFor(ss.st.Conn().RemotePeer()) {
		for set := range setsOf(ss.version) {
			if set == syncSetProfiles && i > 0 {
				continue // the same under every category: once a session
			}
			if err := ss.runSet(ctx, cat, set); err != nil || ss.rounds == min(ss.s.getLimits().maxRounds, syncMaxRounds) {
				return err
			}
		}
	}
	return nil
}

// runSet asks for one set of one category.
func (ss *syncSession) runSet(ctx context.Context, cat string, set uint) error {
	lim := ss.s.getLimits()
	have, err := ss.s.haveList(ctx, cat, set)
	if err != nil {
		return err
	}
	// The requester splits its IDs into chunks of at most maxIDs; chunk
	// i covers [first prefix of chunk i, first prefix of chunk i+1), the
	// first chunk from 0 and the last to the end. A truncated response
	// continues from the Next it names, within the chunk.
	for start := 0; ; {
		end := min(start+lim.maxIDs, len(have))
		var from, to uint64
		if start > 0 {
			from = have[start].prefix
		}
		if end < len(have) {
			to = have[end].prefix
		}
		for cursor := from; ; {
			if ss.rounds == min(lim.maxRounds, syncMaxRounds) {
				return nil // enough for one session; the next continues
			}
			more, next, err := ss.round(ctx, cat, set, cursor, to, have[start:end])
			if err != nil {
				return err
			}
			if !more {
				break
			}
			cursor = next
		}
		if end == len(have) {
			break
		}
		start = end
	}
	return nil
}

// syncRound is the state of one request's response on the asking side.
type syncRound struct {
	cat         string
	set         uint
	from, to    uint64
	live, tombs []uint64
	last        uint64
	items       int
}

// place checks that a message for prefix p may come next: in the range, in
// ascending order, and not one the request listed.
func (rs *syncRound) place(p uint64, tomb bool) error {
	_, inTombs := slices.BinarySearch(rs.tombs, p)
	_, inLive := slices.BinarySearch(rs.live, p)
	switch {
	case !inRange(p, rs.from, rs.to):
		return fmt.Errorf("%w: message outside the requested range", errSyncViolation)
	case rs.items > 1 && p <= rs.last:
		return fmt.Errorf("%w: messages not in ascending ID order", errSyncViolation)
	case inTombs || (inLive && !tomb):
		return fmt.Errorf("%w: message the request said it holds", errSyncViolation)
	}
	rs.last = p
	return nil
}

// round sends one request and takes in its response. It reports whether
// the response was cut short, and where to continue.
func (ss *syncSession) round(ctx context.Context, cat string, set uint, from, to uint64, have []haveEntry) (more bool, next uint64, err error) {
	ss.rounds++
	rs := &syncRound{cat: cat, set: set, from: from, to: to}
	for _, h := range have {
		if !inRange(h.prefix, from, to) {
			continue
		}
		if h.tomb {
			rs.tombs = append(rs.tombs, h.prefix)
		} else {
			rs.live = append(rs.live, h.prefix)
		}
	}
	frame, err := appendFrame(nil, syncRequest{Category: cat, From: from, To: to, Live: packPrefixes(rs.live), Tombs: packPrefixes(rs.tombs), Set: set})
	if err != nil {
		return false, 0, err
	}
	ss.st.SetWriteDeadline(time.Now().Add(syncFrameTimeout))
	if _, err := ss.st.Write(frame); err != nil {
		return false, 0, err
	}
	ss.s.count(func(c *SyncStats) { c.Requests++; c.BytesSent += len(frame) })

	total := 0
	for {
		ss.st.SetReadDeadline(time.Now().Add(syncFrameTimeout))
		data, size, err := readFrame(ss.r, maxItemFrame(ss.version))
		if errors.Is(err, io.EOF) && total == 0 {
			return false, 0, errSyncClosed
		}
		if errors.Is(err, errSyncViolation) {
			ss.s.count(func(c *SyncStats) { c.Rejected++ })
		}
		if err != nil {
			return false, 0, err
		}
		ss.s.count(func(c *SyncStats) { c.BytesReceived += size })
		if total += size; total > syncMaxResponse {
			ss.s.count(func(c *SyncStats) { c.Rejected++ })
			return false, 0, fmt.Errorf("%w: response over %d bytes", errSyncViolation, syncMaxResponse)
		}
		f, err := parseFrame(data, ss.version)
		if err == nil && f.Kind == syncKindEnd {
			if !f.More {
				return false, 0, nil
			}
			if rs.items == 0 || f.Next <= rs.last || !inRange(f.Next, from, to) {
				err = fmt.Errorf("%w: End names no progress", errSyncViolation)
			} else {
				return true, f.Next, nil
			}
		}
		if err == nil {
			if rs.items++; rs.items > syncMaxItems {
				err = fmt.Errorf("%w: more than %d messages in one response", errSyncViolation, syncMaxItems)
			} else {
				err = ss.take(ctx, rs, f)
			}
		}
		if err != nil {
			if errors.Is(err, errSyncViolation) {
				ss.s.count(func(c *SyncStats) { c.Rejected++ })
			}
			return false, 0, err
		}
	}
}

// take validates one message exactly as gossip does (Node.check) and
// delivers it the same way (Node.deliver). Reject-class errors are
// violations; Ignore-class ones (already known, expired, cancelled, a
// cancel of an unknown intent) are dropped without blame.
func (ss *syncSession) take(ctx context.Context, rs *syncRound, f *syncFrame) error {
	n := ss.s.node
	reject := func(err error) error { return fmt.Errorf("%w: %w", errSyncViolation, err) }
	ignored := func() { ss.s.count(func(c *SyncStats) { c.Ignored++ }) }
	deliverIntent := func(m any) {
		n.deliver(ctx, m)
		n.forward(rs.cat, false, m)
		ss.intents++
		ss.s.count(func(c *SyncStats) { c.Intents++ })
	}
	if !kindFits(f.Kind, rs.set) {
		return fmt.Errorf("%w: a frame of kind %d in answer to a request for set %d", errSyncViolation, f.Kind, rs.set)
	}
	if f.Kind == syncKindRating || f.Kind == syncKindReply || f.Kind == syncKindProfile {
		return ss.takeTrust(ctx, rs, f)
	}
	if f.Kind == syncKindIntent {
		in, err := intent.ParseIntent(f.Msg)
		if err != nil {
			return reject(err)
		}
		if err := rs.place(prefixOf(in.ID), false); err != nil {
			return err
		}
		m, err := n.checkFrom(ctx, ss.st.Conn().RemotePeer(), rs.cat, false, f.Msg)
		switch verdict(err) {
		case pubsub.ValidationAccept:
			deliverIntent(m)
		case pubsub.ValidationReject:
			return reject(err)
		default:
			ignored()
		}
		return nil
	}
	if f.Kind == syncKindOffer {
		id, err := sealedID(f.Msg)
		if err != nil {
			return reject(err)
		}
		if err := rs.place(prefixOf(id), false); err != nil {
			return err
		}
		m, err := n.checkFrom(ctx, ss.st.Conn().RemotePeer(), rs.cat, true, f.Msg)
		switch verdict(err) {
		case pubsub.ValidationAccept:
			n.deliver(ctx, m)
			ss.offers++
			ss.s.count(func(c *SyncStats) { c.Offers++ })
		case pubsub.ValidationReject:
			return reject(err)
		default:
			ignored()
		}
		return nil
	}

	// A tombstone: the closure (a cancel; by /2 also an accept), and the
	// intent it closes unless the request listed it as live. The intent is
	// checked first (it is what the closure's signature is checked
	// against); if the closure then fails, the intent, valid on its own, is
	// delivered as live.
	intentID, offersTopic, err := parseClosure(f.Msg, ss.version)
	if err != nil {
		return reject(err)
	}
	if err := rs.place(prefixOf(intentID), true); err != nil {
		return err
	}
	var fresh any
	if f.Intent != nil {
		in, err := intent.ParseIntent(f.Intent)
		if err != nil {
			return reject(err)
		}
		if in.ID != intentID {
			return fmt.Errorf("%w: tombstone carries another intent than its closure names", errSyncViolation)
		}
		m, err := n.checkFrom(ctx, ss.st.Conn().RemotePeer(), rs.cat, false, f.Intent)
		switch verdict(err) {
		case pubsub.ValidationAccept:
			fresh = m
		case pubsub.ValidationReject:
			return reject(err)
		}
	}
	m, err := n.checkFrom(ctx, ss.st.Conn().RemotePeer(), rs.cat, offersTopic, f.Msg)
	switch verdict(err) {
	case pubsub.ValidationAccept:
		n.deliver(ctx, m)
		n.forward(rs.cat, offersTopic, m)
		ss.tombs++
		ss.s.count(func(c *SyncStats) { c.Tombstones++ })
		return nil
	case pubsub.ValidationReject:
		if fresh != nil {
			deliverIntent(fresh)
		}
		return reject(err)
	}
	if fresh != nil {
		deliverIntent(fresh)
	}
	ignored()
	return nil
}

// parseClosure runs the stateless checks of a tombstone's closure and
// returns the intent it names and whether it belongs on the offers topic
// (an accept) rather than the intents topic (a cancel). /1 carries cancels
// only.
func parseClosure(raw []byte, version int) (intent.ID, bool, error) {
	if version == 1 {
		c, err := intent.ParseCancel(raw)
		if err != nil {
			return intent.ID{}, false, err
		}
		return c.IntentID, false, nil
	}
	m, err := intent.Parse(raw)
	if err != nil {
		return intent.ID{}, false, err
	}
	switch m := m.(type) {
	case *intent.SignedCancel:
		return m.IntentID, false, nil
	case *intent.SignedAccept:
		return m.IntentID, true, nil
	}
	return intent.ID{}, false, fmt.Errorf("%w: a tombstone holds neither a cancel nor an accept", intent.ErrMalformed)
}

// categoriesFor returns the categories to ask p about: all of ours. The
// router's view of p's subscriptions would be cheaper, but it fills in one
// topic at a time after connecting, just when the first sync runs; a
// category p does not serve costs one request (8 bytes per ID we hold of
// it) and an empty answer.
func (s *syncer) categoriesFor(peer.ID) []string { return s.cfg.Categories }

// haveList is what this node holds of one set of a category, by ascending
// prefix. Set 0: the intents of its live set (its own included) and its
// tombstones; an ID that is both (a closure being delivered) counts as a
// tombstone. Set 1: every sealed offer it keeps for the category
// (store-and-forward), to its own intents as to any other. Neither list
// depends on which intents are its own: the request asks for the
// category's whole live set, so it does not tell a responder which intents
// the requester cares about (docs/PROTOCOL.md, "Store-and-forward sync").
func (s *syncer) haveList(ctx context.Context, cat string, set uint) ([]haveEntry, error) {
	if set == syncSetOffers {
		return s.haveOffers(ctx, cat)
	}
	if set == syncSetRatings || set == syncSetReplies || set == syncSetProfiles {
		return s.haveTrust(ctx, cat, set)
	}
	pending := s.replay.pendingTombstones(cat) // before the store: see replayIndex.flushing
	stored, err := s.store.Tombstones(ctx, cat, s.cfg.Now())
	if err != nil {
		return nil, fmt.Errorf("sync: tombstones: %w", err)
	}
	// An ID that is both live and a tombstone, or two IDs with one prefix
	// of which one is closed, list as a tombstone: sorted first, kept by
	// the compaction.
	ins := s.live.inCategory(cat)
	out := make([]haveEntry, 0, len(ins)+len(pending)+len(stored))
	for _, in := range ins {
		out = append(out, haveEntry{prefix: prefixOf(in.id)})
	}
	for _, t := range append(pending, stored...) {
		out = append(out, haveEntry{prefix: prefixOf(t.IntentID), tomb: true})
	}
	slices.SortFunc(out, func(a, b haveEntry) int {
		if c := cmp.Compare(a.prefix, b.prefix); c != 0 || a.tomb == b.tomb {
			return c
		}
		if a.tomb {
			return -1
		}
		return 1
	})
	return slices.CompactFunc(out, func(a, b haveEntry) bool { return a.prefix == b.prefix }), nil
}

// haveOffers lists the offers this node keeps for a category.
func (s *syncer) haveOffers(ctx context.Context, cat string) ([]haveEntry, error) {
	pending := s.replay.pendingRelayed(cat) // before the store: see replayIndex.flushing
	stored, err := s.store.RelayedOffers(ctx, cat, s.cfg.Now())
	if err != nil {
		return nil, fmt.Errorf("sync: relayed offers: %w", err)
	}
	kept := append(pending, stored...)
	seen := make(map[uint64]bool, len(kept))
	out := make([]haveEntry, 0, len(kept))
	for _, o := range kept {
		if p := prefixOf(o.ID); !seen[p] {
			seen[p] = true
			out = append(out, haveEntry{prefix: p})
		}
	}
	slices.SortFunc(out, func(a, b haveEntry) int { return cmp.Compare(a.prefix, b.prefix) })
	return out, nil
}
