package cli

import (
	"context"
	"fmt"
	"strings"

	ucli "github.com/urfave/cli/v3"

	"github.com/intentcast/intentcast/node/api/client"
)

func (a *app) statusCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "status",
		Usage: "show how others reach the node: reachability, addresses, relays, DHT, peers",
		Description: `Reachability is AutoNAT's verdict: public (peers can dial this node's own
addresses), private (behind a NAT or firewall: peers reach it through the
relays listed, and hole punching turns those connections direct) or unknown
(not probed yet; AutoNAT needs peers that serve it, such as relays).

Examples:
  intentcast status
  intentcast status --json | jq -r .reachability`,
		Action: func(ctx context.Context, cmd *ucli.Command) error {
			if err := noArgs(cmd); err != nil {
				return err
			}
			var info client.NodeInfo
			return callAPI(ctx, a, cmd, func(c *conn, ctx context.Context) (st client.NetworkStatus, err error) {
				if info, err = c.Node(ctx); err != nil {
					return st, err
				}
				return c.Network(ctx)
			}, func(_ *conn, st client.NetworkStatus) error {
				t := newTable(a.stdout)
				t.row("peer ID", info.PeerID)
				t.row("reachability", st.Reachability)
				rows := func(label string, vals []string) {
					if len(vals) == 0 {
						t.row(label, "-")
					}
					for i, v := range vals {
						if i > 0 {
							label = ""
						}
						t.row(label, v)
					}
				}
				rows("addresses", st.Addrs)
				rows("confirmed", st.ReachableAddrs)
				rows("unreachable", st.UnreachableAddrs)
				rows("via relays", st.RelayAddrs)
				t.row("relay service", map[bool]string{true: "serving", false: "off"}[st.RelayService])
				dht := st.DHT
				if st.DHT != "off" {
					dht = fmt.Sprintf("%s, %d peers in the routing table", st.DHT, st.DHTPeers)
				}
				t.row("DHT", dht)
				t.row("advertising", orDash(strings.Join(st.Advertising, ", ")))
				t.row("peers", fmt.Sprintf("%d (%d relayed only)", st.Peers, st.RelayedPeers))
				return t.flush()
			})
		},
	}
}
