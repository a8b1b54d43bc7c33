package node

import (
	"errors"
	"fmt"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	corenet "github.com/libp2p/go-libp2p/core/network"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
)

// userAgent is what identify tells peers we run. It names no version, so
// peers cannot tell builds apart by it.
const userAgent = "intentcast"

// newHost builds the libp2p host: TCP secured by Noise and multiplexed by
// Yamux, and QUIC (which brings its own TLS 1.3 and streams). Only those two
// transports are on, so the host is easy to reason about and to firewall.
// NAT traversal is reachOptions' (reach.go). UPnP (libp2p.NATPortMap) stays
// off: it opens ports on the user's router without asking.
//
// gater is asked about every connection (the deny list of graylisted
// peers, which asks Config.Gater in turn).
func newHost(cfg Config, relays *relaySource, gater *denyList) (host.Host, error) {
	addrs, err := cfg.listenMultiaddrs()
	if err != nil {
		return nil, err
	}
	cm, err := connmgr.NewConnManager(cfg.ConnLow, cfg.ConnHigh)
	if err != nil {
		return nil, fmt.Errorf("connection manager: %w", err)
	}
	rm, err := newResourceManager(cfg)
	if err != nil {
		cm.Close()
		return nil, err
	}
	opts := []libp2p.Option{
		libp2p.ListenAddrs(addrs...),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Transport(quic.NewTransport),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Muxer(yamux.ID, yamux.DefaultTransport),
		libp2p.ConnectionManager(cm),
		libp2p.ResourceManager(rm),
		libp2p.UserAgent(userAgent),
	}
	opts = append(opts, reachOptions(cfg, relays)...)
	if cfg.PrivKey != nil {
		opts = append(opts, libp2p.Identity(cfg.PrivKey))
	}
	opts = append(opts, libp2p.ConnectionGater(gater))
	h, err := libp2p.New(opts...)
	if err != nil {
		// libp2p closes them on some failure paths, not all; both Close
		// methods tolerate a second call.
		return nil, errors.Join(fmt.Errorf("libp2p host: %w", err), cm.Close(), rm.Close())
	}
	relays.h.Store(&h)
	return h, nil
}

// Resource budget for the whole libp2p stack. Memory is mostly Yamux receive
// windows (256 KiB per stream, growing to 16 MiB on fast streams); a node with
// ConnHigh peers and a handful of streams each needs about 100 MiB. File
// descriptors are one per TCP connection (QUIC shares one UDP socket), and 512
// stays well below the usual soft limit of 1024, leaving room for the store.
const (
	rcmgrMemory = 256 << 20
	rcmgrFDs    = 512
)

// newResourceManager sets hard limits on what peers can make this node hold.
// The connection manager trims softly at ConnHigh; the resource manager is
// the hard stop behind it, so it sits above ConnHigh (libp2p checks this).
// Scopes not set here (per service, per protocol) keep libp2p's defaults
// scaled to the same budget.
func newResourceManager(cfg Config) (corenet.ResourceManager, error) {
	scaling := rcmgr.DefaultLimits
	libp2p.SetDefaultServiceLimits(&scaling)
	defaults := scaling.Scale(rcmgrMemory, rcmgrFDs)

	conns := 2 * cfg.ConnHigh
	limits := rcmgr.PartialLimitConfig{
		// Twice ConnHigh: room for churn before the connection manager trims.
		// Inbound alone may fill only half of it, so a flood of inbound
		// connections can never stop us dialing our own choice of peers
		// (eclipse resistance). 16 streams per connection is generous: a
		// peer needs about 6 (gossipsub both ways, identify, ping, sync, stem).
		System: rcmgr.ResourceLimits{
			Conns:           rcmgr.LimitVal(conns),
			ConnsInbound:    rcmgr.LimitVal(cfg.ConnHigh),
			ConnsOutbound:   rcmgr.LimitVal(conns),
			Streams:         rcmgr.LimitVal(16 * conns),
			StreamsInbound:  rcmgr.LimitVal(16 * cfg.ConnHigh),
			StreamsOutbound: rcmgr.LimitVal(16 * conns),
			Memory:          rcmgr.LimitVal64(rcmgrMemory),
			FD:              rcmgrFDs,
		},
		// Connections and streams still in their handshake or protocol
		// negotiation. Those finish in milliseconds, so a small pool is
		// enough, and it caps what unauthenticated dialers can hold.
		Transient: rcmgr.ResourceLimits{
			Conns:           64,
			ConnsInbound:    32,
			ConnsOutbound:   64,
			Streams:         256,
			StreamsInbound:  128,
			StreamsOutbound: 256,
			Memory:          rcmgr.LimitVal64(rcmgrMemory / 8),
			FD:              64,
		},
		// One remote peer. 8 connections covers simultaneous dials over TCP
		// and QUIC from both sides; 32 inbound streams and 1/16 of the memory
		// keep a single peer from starving the others.
		PeerDefault: rcmgr.ResourceLimits{
			Conns:           8,
			ConnsInbound:    8,
			ConnsOutbound:   8,
			Streams:         64,
			StreamsInbound:  32,
			StreamsOutbound: 64,
			Memory:          rcmgr.LimitVal64(rcmgrMemory / 16),
			FD:              8,
		},
	}.Build(defaults)

	rm, err := rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(limits))
	if err != nil {
		return nil, fmt.Errorf("resource manager: %w", err)
	}
	return rm, nil
}
