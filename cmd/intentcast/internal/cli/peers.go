package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	ucli "github.com/urfave/cli/v3"

	"github.com/intentcast/intentcast/node/api/client"
)

func (a *app) peersCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "peers",
		Usage: "list the peers the node is connected to; connect or disconnect one",
		Description: `Lists every connected peer: whether the connection is direct or through a
relay (a relayed peer has no direct path yet; hole punching may bring one),
the ping round trip, the remote address and the protocols the peer speaks.

Examples:
  intentcast peers
  intentcast peers --json | jq length
  intentcast peers connect /ip4/203.0.113.7/tcp/4001/p2p/12D3KooW...
  intentcast peers disconnect 12D3KooW...`,
		Action: a.runPeers,
		Commands: []*ucli.Command{
			{
				Name:      "connect",
				Usage:     "dial a peer now (it is remembered, so a restarted node redials it)",
				ArgsUsage: "ADDR",
				Description: `ADDR is a multiaddr ending in /p2p/<peer ID>, as 'intentcast id' prints
on the other node; /p2p/<peer ID> alone is looked up on the DHT (node.dht).
The command returns once connected, or fails after 30s.

Examples:
  intentcast peers connect /ip4/203.0.113.7/tcp/4001/p2p/12D3KooW...
  intentcast peers connect /ip4/203.0.113.7/udp/4001/quic-v1/p2p/12D3KooW...
  intentcast peers connect /p2p/12D3KooW...`,
				Action: a.runPeersConnect,
			},
			{
				Name:      "disconnect",
				Usage:     "close every connection to a peer and forget its addresses",
				ArgsUsage: "ID",
				Description: `ID is a peer ID as 'intentcast peers' lists it. A bootstrap peer is dialled
again while the node is short of peers, and any peer may dial back in;
to keep a peer out for good, firewall it.

Examples:
  intentcast peers disconnect 12D3KooW...`,
				Action: a.runPeersDisconnect,
			},
		},
	}
}

func (a *app) runPeers(ctx context.Context, cmd *ucli.Command) error {
	if cmd.NArg() > 0 {
		return usagef(cmd, "unknown command %q; want connect or disconnect (or nothing, to list peers)", cmd.Args().First())
	}
	const none = "no peers; give the daemon --bootstrap ADDR, run 'intentcast peers connect ADDR', or run another node on this network (mDNS)"
	return listAPI(ctx, a, cmd, (*conn).Peers, none, func(peers []client.PeerInfo) error {
		t := newTable(a.stdout, "PEER", "PATH", "LATENCY", "ADDRESS", "PROTOCOLS")
		for _, p := range peers {
			t.row(p.ID, peerPath(p), latency(p.LatencyMS), strings.Join(p.Addrs, " "), strings.Join(p.Protocols, " "))
		}
		return t.flush()
	})
}

// checkPeerAddr checks that s is a multiaddr ending in /p2p/<peer ID>.
func checkPeerAddr(s string) error {
	addr, err := ma.NewMultiaddr(s)
	if err == nil {
		_, err = peer.AddrInfoFromP2pAddr(addr)
	}
	if err != nil {
		return fmt.Errorf("%v; want a multiaddr ending in /p2p/<peer ID>, such as /ip4/203.0.113.7/tcp/4001/p2p/12D3KooW...", err)
	}
	return nil
}

// peerPath says how the node reaches a peer.
func peerPath(p client.PeerInfo) string {
	if p.Relayed {
		return "relayed"
	}
	return "direct"
}

func latency(ms float64) string {
	if ms <= 0 {
		return "-"
	}
	return time.Duration(ms * float64(time.Millisecond)).Round(10 * time.Microsecond).String()
}

func (a *app) runPeersConnect(ctx context.Context, cmd *ucli.Command) error {
	args, err := exactArgs(cmd, "ADDR")
	if err != nil {
		return err
	}
	if err := checkPeerAddr(args[0]); err != nil {
		return usagef(cmd, "ADDR %q: %v", args[0], err)
	}
	return callAPI(ctx, a, cmd, func(c *conn, ctx context.Context) (client.PeerInfo, error) {
		return c.ConnectPeer(ctx, args[0])
	}, func(_ *conn, p client.PeerInfo) error {
		fmt.Fprintf(a.stdout, "connected to %s (%s)\n", p.ID, peerPath(p))
		return nil
	})
}

func (a *app) runPeersDisconnect(ctx context.Context, cmd *ucli.Command) error {
	args, err := exactArgs(cmd, "ID")
	if err != nil {
		return err
	}
	if _, err := peer.Decode(args[0]); err != nil {
		return usagef(cmd, "ID %q is not a peer ID (%v); 'intentcast peers' lists them", args[0], err)
	}
	return callAPI(ctx, a, cmd, func(c *conn, ctx context.Context) (disconnected, error) {
		return disconnected{args[0]}, c.DisconnectPeer(ctx, args[0])
	}, func(_ *conn, d disconnected) error {
		fmt.Fprintf(a.stdout, "disconnected from %s\n", d.Peer)
		return nil
	})
}

// disconnected is what peers disconnect --json prints.
type disconnected struct {
	Peer string `json:"disconnected"`
}
