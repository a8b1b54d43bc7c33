package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"

	ucli "github.com/urfave/cli/v3"

	"github.com/intentcast/intentcast/cmd/intentcast/internal/daemon"
)

func (a *app) initCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "init",
		Usage: "create the data directory: keys, API token and a commented config.toml",
		Description: `Creates the data directory (mode 0700) with:
  node.key     the node's libp2p key (its peer ID)          0600
  vendor.key   the identity that signs your offers          0600
  api.token    the local API's bearer token                 0600
  config.toml  every setting with its default, commented    0600

Running init again never replaces keys or the token; it says what it kept.
--force-config rewrites config.toml only. The daemon runs init itself when
the directory is missing, so init is only needed to choose a profile:

  lan       mDNS on, listen on 0.0.0.0 port 4001 (TCP and QUIC)   (default)
  internet  mDNS off, fixed port 4001, DHT (auto), relay service while
            public, NAT traversal; --bootstrap fills in the bootstrap list
  test      127.0.0.1 only, random ports, mDNS off, minimal proof of work

Examples:
  intentcast init
  intentcast init --profile internet --bootstrap /ip4/203.0.113.7/tcp/4001/p2p/12D3KooW...
  intentcast --data-dir /tmp/n1 init --profile test
  intentcast init --force-config`,
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "profile", Value: "lan", Usage: "starting point: " + strings.Join(daemon.Profiles, ", ")},
			&ucli.BoolFlag{Name: "force-config", Usage: "rewrite config.toml from the profile (keys and token are kept)"},
			&ucli.StringSliceFlag{Name: "bootstrap", Usage: "peer for config.toml's bootstrap list, a multiaddr ending in /p2p/ID, repeatable"},
		},
		Action: a.runInit,
	}
}

func (a *app) runInit(ctx context.Context, cmd *ucli.Command) error {
	if err := noArgs(cmd); err != nil {
		return err
	}
	profile := cmd.String("profile")
	if !slices.Contains(daemon.Profiles, profile) {
		return flagError(cmd, "profile", profile, "want one of "+strings.Join(daemon.Profiles, ", "))
	}
	dir, err := daemon.ResolveDir(cmd.String(flagDataDir))
	if err != nil {
		return err
	}
	boot := cmd.StringSlice("bootstrap")
	for _, b := range boot {
		if err := checkPeerAddr(b); err != nil {
			return flagError(cmd, "bootstrap", b, err.Error())
		}
	}
	r, err := daemon.Init(dir, profile, cmd.Bool("force-config"), boot)
	if err != nil {
		return fmt.Errorf("init %s: %w", dir, err)
	}
	if cmd.Bool(flagJSON) {
		return printJSON(a.stdout, r)
	}
	fmt.Fprintf(a.stdout, "data dir %s\n", r.Dir)
	for _, f := range r.Created {
		fmt.Fprintf(a.stdout, "  created %s\n", f)
	}
	for _, f := range r.Kept {
		fmt.Fprintf(a.stdout, "  kept    %s (already there%s)\n", f, keptHint(f))
	}
	fmt.Fprintf(a.stdout, "peer ID %s\n", r.PeerID)
	if len(r.Created) > 0 {
		fmt.Fprintln(a.stdout, "start the node with: intentcast daemon")
	}
	return nil
}

func keptHint(f string) string {
	if f == daemon.ConfigFile {
		return "; --force-config rewrites it"
	}
	return "; never replaced"
}
