package node

import (
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/connmgr"
	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/host"
	corenet "github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// denyListMax bounds the peers held in the deny list. Each entry needs a
// peer that connected and sent two invalid messages; when it is full the
// entry that would lapse first goes, and that peer may reconnect early, only
// to be closed again at the next score reading (its score is retained).
const denyListMax = 4096

// denyList is the node's connection gater: it refuses connections, both
// ways, to the peers the score watch disconnected for their own invalid
// messages, until their deny lapses (Config.GraylistDeny), and asks the
// operator's gater (Config.Gater) about everything else. Peers are denied by
// ID, never by address, so an attacker cannot get honest peers behind its
// NAT or on its host refused.
type denyList struct {
	next connmgr.ConnectionGater // Config.Gater; nil allows everything

	mu    sync.Mutex
	until map[peer.ID]time.Time
}

func newDenyList(next connmgr.ConnectionGater) *denyList {
	return &denyList{next: next, until: make(map[peer.ID]time.Time)}
}

// add denies p until the given time (or longer, if it already was).
func (d *denyList) add(p peer.ID, until, now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if u, ok := d.until[p]; ok && u.After(until) {
		return
	}
	if _, ok := d.until[p]; !ok && len(d.until) >= denyListMax {
		d.evict(now)
	}
	d.until[p] = until
}

// evict drops the lapsed entries, or if there are none the one that would
// lapse first. d.mu is held.
func (d *denyList) evict(now time.Time) {
	var first peer.ID
	var firstUntil time.Time
	for p, u := range d.until {
		if !u.After(now) {
			delete(d.until, p)
			continue
		}
		if first == "" || u.Before(firstUntil) {
			first, firstUntil = p, u
		}
	}
	if len(d.until) >= denyListMax {
		delete(d.until, first)
	}
}

// denied reports whether p is denied at now; a lapsed entry is dropped.
func (d *denyList) denied(p peer.ID, now time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	u, ok := d.until[p]
	if ok && !u.After(now) {
		delete(d.until, p)
		return false
	}
	return ok
}

// deniedUntil is when p's deny lapses (zero if it is not denied).
func (d *denyList) deniedUntil(p peer.ID) time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.until[p]
}

// size counts the peers denied at now.
func (d *denyList) size(now time.Time) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, u := range d.until {
		if u.After(now) {
			n++
		}
	}
	return n
}

// guard applies the deny list to a host the node did not build
// (Config.Host), which has none of the node's gater: a denied peer's
// connection, inbound or outbound, is closed as soon as it is up. The
// swarm tells its notifiees of a connection before it takes any stream on
// it, so the peer gets no stream answered (identify, gossipsub, stem,
// sync), as with the gater; what it still gets is the handshake, which the
// gater refuses too. stop undoes it, for a host that outlives the node.
func (d *denyList) guard(h host.Host) (stop func()) {
	nb := &corenet.NotifyBundle{ConnectedF: func(_ corenet.Network, c corenet.Conn) {
		if d.denied(c.RemotePeer(), time.Now()) {
			c.Close()
		}
	}}
	h.Network().Notify(nb)
	return func() { h.Network().StopNotify(nb) }
}

// InterceptPeerDial refuses to dial a denied peer: discovery, the address
// book and the DHT would otherwise bring it back.
func (d *denyList) InterceptPeerDial(p peer.ID) bool {
	if d.denied(p, time.Now()) {
		return false
	}
	return d.next == nil || d.next.InterceptPeerDial(p)
}

func (d *denyList) InterceptAddrDial(p peer.ID, a ma.Multiaddr) bool {
	return d.next == nil || d.next.InterceptAddrDial(p, a)
}

func (d *denyList) InterceptAccept(c corenet.ConnMultiaddrs) bool {
	return d.next == nil || d.next.InterceptAccept(c)
}

// InterceptSecured refuses a denied peer's connection as soon as its
// handshake names it, before any stream (identify, gossipsub) is opened.
func (d *denyList) InterceptSecured(dir corenet.Direction, p peer.ID, c corenet.ConnMultiaddrs) bool {
	if d.denied(p, time.Now()) {
		return false
	}
	return d.next == nil || d.next.InterceptSecured(dir, p, c)
}

func (d *denyList) InterceptUpgraded(c corenet.Conn) (bool, control.DisconnectReason) {
	if d.next == nil {
		return true, 0
	}
	return d.next.InterceptUpgraded(c)
}
