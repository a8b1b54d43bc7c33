package cli

import (
	"context"
	"fmt"
	"strings"

	ucli "github.com/urfave/cli/v3"

	"github.com/intentcast/intentcast/node/api/client"
)

func (a *app) idCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "id",
		Usage: "show the node's peer ID, addresses and vendor key",
		Description: `The peer ID and addresses are what other nodes bootstrap to. The vendor key
signs your offers; customers see it. Neither is ever attached to your
intents.

Examples:
  intentcast id
  intentcast id --json | jq -r '.addrs[0]'`,
		Action: func(ctx context.Context, cmd *ucli.Command) error {
			if err := noArgs(cmd); err != nil {
				return err
			}
			return callAPI(ctx, a, cmd, (*conn).Node, func(c *conn, info client.NodeInfo) error {
				t := newTable(a.stdout)
				t.row("peer ID", info.PeerID)
				for i, addr := range info.Addrs {
					label := ""
					if i == 0 {
						label = "addresses"
					}
					t.row(label, addr)
				}
				t.row("vendor key", orDash(info.Vendor.Key))
				t.row("vendor name", orDash(info.Vendor.Name))
				if info.Vendor.URL != "" {
					t.row("vendor url", info.Vendor.URL)
				}
				t.row("categories", strings.Join(info.Categories, ", "))
				t.row("min work", fmt.Sprintf("%d bits", info.MinWork))
				t.row("min offer work", fmt.Sprintf("%d bits", info.MinOfferWork))
				t.row("version", info.Version)
				t.row("API", c.base)
				return t.flush()
			})
		},
	}
}

func (a *app) versionCommand() *ucli.Command {
	return &ucli.Command{
		Name:        "version",
		Usage:       "print the version of this binary (and of the daemon, if one runs)",
		Description: "Examples:\n  intentcast version\n  intentcast version --json",
		Action: func(ctx context.Context, cmd *ucli.Command) error {
			if err := noArgs(cmd); err != nil {
				return err
			}
			v := struct {
				Client string `json:"client"`
				Daemon string `json:"daemon,omitempty"`
			}{Client: version()}
			// The daemon's version is a bonus: no daemon is no error here.
			if c, err := a.connect(cmd); err == nil {
				if info, err := c.Node(ctx); err == nil {
					v.Daemon = info.Version
				}
			}
			if cmd.Bool(flagJSON) {
				return printJSON(a.stdout, v)
			}
			fmt.Fprintf(a.stdout, "intentcast %s\n", v.Client)
			if v.Daemon != "" {
				fmt.Fprintf(a.stdout, "daemon     %s\n", v.Daemon)
			}
			return nil
		},
	}
}

func (a *app) protocolCommand() *ucli.Command {
	return &ucli.Command{
		Name:        "protocol",
		Usage:       "show the categories, the terms roster and the limits an intent must respect",
		Description: "Examples:\n  intentcast protocol\n  intentcast protocol --json | jq -r '.terms[].name'",
		Action: func(ctx context.Context, cmd *ucli.Command) error {
			if err := noArgs(cmd); err != nil {
				return err
			}
			return callAPI(ctx, a, cmd, (*conn).Protocol, func(_ *conn, p client.ProtocolInfo) error {
				fmt.Fprintf(a.stdout, "categories: %s\n", strings.Join(p.Categories, ", "))
				fmt.Fprintf(a.stdout, "served by this node: %s\n\nterms (default: %s):\n", strings.Join(p.Served, ", "), strings.Join(p.DefaultTerms, ", "))
				t := newTable(a.stdout)
				for _, term := range p.Terms {
					t.row("  "+term.Name, term.Description)
				}
				t.flush()
				l := p.Limits
				fmt.Fprintf(a.stdout, "\nlimits: text %d bytes, path %d levels of %d bytes, quantity %d, %d custom terms, lifetime %s, offer validity %s\n",
					l.MaxText, l.MaxPathDepth, l.MaxPathSegment, l.MaxQuantity, l.MaxCustomTerms, l.MaxLifetime, l.MaxOfferTTL)
				return nil
			})
		},
	}
}
