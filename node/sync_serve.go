package node

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	corenet "github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/intentcast/intentcast/intent"
)

// The answering side of /intentcast/sync/1, /2 and /3, and the closed
// intents it serves with their tombstones.

// handle answers one sync stream. ctx ends when sync stops serving.
func (s *syncer) handle(ctx context.Context, st corenet.Stream) {
	ctx, cancel := context.WithTimeout(ctx, syncSessionTimeout)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { st.Reset() })
	defer stop()
	p := st.Conn().RemotePeer()
	slot, ok := s.admit(p, st.Conn().ID(), cancel)
	if !ok {
		s.count(func(c *SyncStats) { c.Refused++ })
		st.Close() // no answer: the peer tries again later
		return
	}
	defer s.streams.done(slot)
	if err := s.serve(ctx, st, slot); err != nil {
		st.Reset()
		if errors.Is(err, errSyncViolation) {
			s.count(func(c *SyncStats) { c.Refused++ })
			s.ban(p, err)
		} else if ctx.Err() == nil {
			s.log.Debug("sync: answering failed", "peer", p, "err", err)
		}
		return
	}
	st.Close()
	s.count(func(c *SyncStats) { c.Served++ })
}

// servedPeer is what a responder remembers of a peer it answered.
type servedPeer struct {
	at         time.Time   // its last session
	conn       string      // the connection that session came on
	reconnects tokenBucket // sessions on a new connection that skipped the interval
}

// admit bounds the sessions answered, per peer and in all. Sync's own rule
// comes first: at most one session per SyncServeInterval for each peer,
// none for a dropped peer; the first session on a connection new since
// the peer's last one skips the interval, syncReconnectBurst times and
// then once per syncReconnectEvery (a node that restarts asks at once for
// what it missed, and must not wait out the interval its last start
// spent). Then the stream service's slots (streamservice.go, with sync's
// limits): one session per peer, a newer one replacing the older, and
// syncMaxServing at once, where the session idle longest gives its slot
// up once it has been idle for syncPreemptIdle, or else the one begun
// first once it has run for syncPreemptAge. So a few peers holding streams
// open, idle or busy, cannot lock requesters out: each holds at most one
// slot, for a second idle or two busy once a newcomer asks, and gets
// another only after SyncServeInterval (docs/RELIABILITY.md).
func (s *syncer) admit(p peer.ID, conn string, cancel context.CancelFunc) (*streamSlot, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if s.streams.isBanned(p) {
		return nil, false
	}
	sp, known := s.served[p]
	if known && now.Sub(sp.at) < s.cfg.SyncServeInterval &&
		(sp.conn == conn || !sp.reconnects.take(now, 1/syncReconnectEvery.Seconds(), syncReconnectBurst)) {
		return nil, false
	}
	if !known && len(s.served) >= syncMaxPeersTracked {
		// Entries past the interval and with their reconnect credit
		// refilled hold nothing worth keeping.
		for q, sp := range s.served {
			if now.Sub(sp.at) >= max(s.cfg.SyncServeInterval, syncReconnectEvery*syncReconnectBurst) {
				delete(s.served, q)
			}
		}
		if len(s.served) >= syncMaxPeersTracked {
			return nil, false
		}
	}
	sl, preempted := s.streams.admit(p, cancel)
	if sl == nil {
		return nil, false
	}
	if preempted {
		s.stats.Preempted++
	}
	if !known {
		sp = &servedPeer{reconnects: tokenBucket{tokens: syncReconnectBurst, last: now}}
		s.served[p] = sp
	}
	sp.at, sp.conn = now, conn
	return sl, true
}

// servedEntry is one message this node serves.
type servedEntry struct {
	prefix uint64
	id     intent.ID // the intent's ID (of a tombstone: the cancelled intent's)
	raw    []byte    // the intent, or the cancel
	tomb   bool
	offer  bool // a sealed offer (/2, set 1); id is the offer's ID
	// frameKind, if set, is the frame's kind (/3, sets 2 to 4: a rating,
	// a reply or a profile; id is its ID).
	frameKind uint
	intent    []byte // a tombstone's intent, if known
}

// serve answers the requests of one stream until the requester closes its
// side or a bound is reached.
func (s *syncer) serve(ctx context.Context, st corenet.Stream, slot *streamSlot) error {
	lim := s.getLimits()
	version := syncVersion(st)
	r := bufio.NewReader(st)
	w := &deadlineWriter{st: st, slot: slot}
	type setKey struct {
		cat string
		set uint
	}
	sets := make(map[setKey][]servedEntry)
	sent := 0
	for range min(lim.maxRounds, syncMaxRounds) {
		st.SetReadDeadline(time.Now().Add(syncFrameTimeout))
		data, size, err := readFrame(r, syncMaxRequestFrame)
		if errors.Is(err, io.EOF) {
			return nil // the requester is done
		}
		if err != nil {
			return err
		}
		slot.touch()
		s.count(func(c *SyncStats) { c.ServedBytesIn += size })
		req, err := parseRequest(data, version)
		if err != nil {
			return err
		}
		known := req.Set < setsOf(version)
		if known {
			s.node.listedBy(req) // of another set, what the prefixes name is unknown
		} else {
			s.count(func(c *SyncStats) { c.ServedUnknownSets++ })
		}
		key := setKey{req.Category, req.Set}
		set, ok := sets[key]
		if !ok {
			switch {
			case !known:
				// Not a set of this version (setsOf): served as empty, End
				// alone, and the request took one of the session's rounds.
			case req.Set == syncSetIntents:
				set, err = s.servedSet(ctx, req.Category, version)
			case req.Set == syncSetOffers:
				set, err = s.servedOffers(ctx, req.Category)
			default:
				set, err = s.servedTrust(ctx, req.Category, req.Set)
			}
			if err != nil {
				return err
			}
			sets[key] = set
		}
		n, err := s.respond(ctx, w, req, set, lim, sent)
		sent += n
		if err != nil {
			return err
		}
		if sent+maxItemFrame(version) > lim.maxSession {
			return nil // the session's budget is spent; the requester comes back later
		}
	}
	return nil
}

// respond writes the messages of set that the request's range holds and the
// request does not list, in ascending ID order, then End; a bound cuts the
// response short with End{More, Next}. It returns the bytes written.
func (s *syncer) respond(ctx context.Context, w *deadlineWriter, req *parsedRequest, set []servedEntry, lim syncLimits, sentBefore int) (int, error) {
	const endRoom = 16 // an End frame with More and Next
	items, sent, msgs := 0, 0, 0
	var buf []byte
	flush := func() error {
		_, err := w.Write(buf)
		sent += len(buf)
		buf = buf[:0]
		return err
	}
	defer func() {
		s.count(func(c *SyncStats) { c.ServedBytesOut += sent; c.ServedMessages += msgs })
	}()
	i, _ := slices.BinarySearchFunc(set, req.From, func(e servedEntry, p uint64) int { return cmp.Compare(e.prefix, p) })
	for _, e := range set[i:] {
		if !inRange(e.prefix, req.From, req.To) {
			break
		}
		if req.hasTomb(e.prefix) || (!e.tomb && req.hasLive(e.prefix)) {
			continue
		}
		f := syncFrame{Kind: syncKindIntent, Msg: e.raw}
		if e.offer {
			f.Kind = syncKindOffer
		}
		if e.frameKind != 0 {
			f.Kind = e.frameKind
		}
		if e.tomb {
			f.Kind = syncKindTombstone
			if !req.hasLive(e.prefix) {
				f.Intent = s.cancelledIntent(e)
			}
		}
		frame, err := appendFrame(nil, f)
		if err != nil {
			return sent, err
		}
		total := sent + len(buf) + len(frame) + endRoom
		if items > 0 && (items == lim.maxItems || total > lim.maxResponse || sentBefore+total > lim.maxSession) {
			end, _ := appendFrame(nil, syncFrame{Kind: syncKindEnd, More: true, Next: e.prefix})
			buf = append(buf, end...)
			return sent, flush()
		}
		buf = append(buf, frame...)
		items++
		msgs++
		if len(buf) >= 64<<10 {
			if err := flush(); err != nil {
				return sent, err
			}
		}
		if ctx.Err() != nil {
			return sent, ctx.Err()
		}
	}
	end, _ := appendFrame(nil, syncFrame{Kind: syncKindEnd})
	buf = append(buf, end...)
	return sent, flush()
}

// deadlineWriter renews the write deadline before every write, so a slow
// reader gets syncFrameTimeout per chunk, not per session; each write that
// completes marks the session active.
type deadlineWriter struct {
	st   corenet.Stream
	slot *streamSlot
}

func (w *deadlineWriter) Write(b []byte) (int, error) {
	w.st.SetWriteDeadline(time.Now().Add(syncFrameTimeout))
	n, err := w.st.Write(b)
	if err == nil {
		w.slot.touch()
	}
	return n, err
}

// servedSet is what this node serves of a category, by ascending prefix:
// the unexpired intents of its live set, which holds every live intent of
// its store (loaded at start, and each added before it is written behind)
// and its own intents once published, and the unexpired tombstones of
// its store and its write-behind queue, which override them. All but the
// tombstones come from memory: a session's request, which any peer may
// send once per SyncServeInterval, costs no read of the live records. A
// category the node does not serve has nothing.
func (s *syncer) servedSet(ctx context.Context, cat string, version int) ([]servedEntry, error) {
	if !slices.Contains(s.cfg.Categories, cat) {
		return nil, nil
	}
	now := s.cfg.Now()
	pending := s.replay.pendingTombstones(cat) // before the store: see replayIndex.flushing
	stored, err := s.store.Tombstones(ctx, cat, now)
	if err != nil {
		return nil, fmt.Errorf("sync: tombstones: %w", err)
	}
	// A tombstone replaces the intent it closes; one this requester cannot
	// take (malformed, or an accept to a /1 requester, which carries cancels
	// only and would take an accept in a tombstone frame for a malformed
	// cancel) hides it: the intent is closed, nil here. Of two for one
	// intent, the later counts (stored after pending).
	closed := make(map[intent.ID]*servedEntry, len(pending)+len(stored))
	for _, t := range append(pending, stored...) {
		if c, err := closureOf(t); err != nil || (version == 1 && c.Kind != ClosedCancelled) {
			closed[t.IntentID] = nil
			continue
		}
		e := &servedEntry{id: t.IntentID, raw: t.Raw, tomb: true, intent: t.IntentRaw}
		if e.intent == nil {
			// Tombstones stored before they kept their intent: an own
			// intent is in memory until it expires, and so is its
			// tombstone.
			e.intent = s.node.ownRaw(t.IntentID)
		}
		closed[t.IntentID] = e
	}
	// A slice, not a map by ID: the live set is the bulk of a session's
	// cost, and it holds each ID once.
	ins := s.live.inCategory(cat)
	out := make([]servedEntry, 0, len(ins)+len(closed))
	for _, in := range ins {
		if _, ok := closed[in.id]; !ok && !in.expires.Before(now) {
			out = append(out, servedEntry{id: in.id, raw: in.raw})
		}
	}
	for _, e := range closed {
		if e != nil {
			out = append(out, *e)
		}
	}
	return orderServed(out), nil
}

// sortServed orders entries by ascending prefix.
func sortServed(byID map[intent.ID]servedEntry) []servedEntry {
	return orderServed(slices.Collect(maps.Values(byID)))
}

// orderServed orders entries, one per ID, by ascending prefix.
func orderServed(out []servedEntry) []servedEntry {
	for i := range out {
		out[i].prefix = prefixOf(out[i].id)
	}
	slices.SortFunc(out, func(a, b servedEntry) int {
		return cmp.Or(cmp.Compare(a.prefix, b.prefix), slices.Compare(a.id[:], b.id[:]))
	})
	// Two IDs with one prefix (about 2^-64 per pair) cannot be told apart
	// in requests; the second is not served.
	return slices.CompactFunc(out, func(a, b servedEntry) bool { return a.prefix == b.prefix })
}

// servedOffers is what this node serves of a category's sealed offers
// (/2, set 1), by ascending offer-ID prefix: those it keeps
// (store-and-forward) for intents still live here. An offer to a closed or
// expired intent is of no use to anyone.
func (s *syncer) servedOffers(ctx context.Context, cat string) ([]servedEntry, error) {
	if !slices.Contains(s.cfg.Categories, cat) {
		return nil, nil
	}
	pending := s.replay.pendingRelayed(cat) // before the store: see replayIndex.flushing
	stored, err := s.store.RelayedOffers(ctx, cat, s.cfg.Now())
	if err != nil {
		return nil, fmt.Errorf("sync: relayed offers: %w", err)
	}
	kept := append(pending, stored...)
	byID := make(map[intent.ID]servedEntry, len(kept))
	for _, o := range kept {
		if _, live := s.live.peek(o.IntentID); live {
			byID[o.ID] = servedEntry{id: o.ID, raw: o.Raw, offer: true}
		}
	}
	return sortServed(byID), nil
}

// cancelledIntent finds the intent a served tombstone cancels: kept with
// the tombstone, or still in the live set (a cancel being delivered). Nil
// if none (tombstones stored before intents were kept with them): the
// cancel then travels alone, and only requesters that know the intent can
// check it.
func (s *syncer) cancelledIntent(e servedEntry) []byte {
	if e.intent != nil {
		return e.intent
	}
	if l, ok := s.live.peek(e.id); ok {
		return l.raw
	}
	return nil
}
