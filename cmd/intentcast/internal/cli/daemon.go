package cli

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"

	ucli "github.com/urfave/cli/v3"

	"github.com/intentcast/intentcast/cmd/intentcast/internal/daemon"
)

func (a *app) daemonCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "daemon",
		Usage: "run the node and its local API until Ctrl-C",
		Description: `Runs the peer-to-peer node and its local HTTP API (and web page) on
127.0.0.1. Zero config works: a missing data directory is initialised with
the profile given by --profile (default lan). Flags override config.toml.

The daemon prints its peer ID, listen addresses, the API and web page URL
and where the API token is; it writes the API address to DATA_DIR/api.addr,
where the other commands find it. SIGINT or SIGTERM stop it cleanly: the
API first, then the node; everything the node accepted is already on disk.

Examples:
  intentcast daemon
  intentcast daemon --profile internet --no-relay-service
  intentcast daemon --reachability public --dht server   (a public bootstrap node)
  intentcast daemon --api-addr 127.0.0.1:0 --listen /ip4/0.0.0.0/tcp/0
  intentcast --data-dir /tmp/v1 daemon --profile test --bootstrap /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW...`,
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "api-addr", Usage: "API listen address host:port (overrides api.listen; port 0 picks one)"},
			&ucli.StringSliceFlag{Name: "listen", Usage: "peer-to-peer listen multiaddr, repeatable (replaces node.listen)"},
			&ucli.StringSliceFlag{Name: "bootstrap", Usage: "peer to dial at start, a multiaddr ending in /p2p/ID, repeatable (added to node.bootstrap)"},
			&ucli.StringFlag{Name: "profile", Value: "lan", Usage: "profile for a data dir that is not initialised yet: " + strings.Join(daemon.Profiles, ", ")},
			&ucli.StringFlag{Name: "log-level", Usage: "debug, info, warn or error (overrides log.level)"},
			&ucli.BoolFlag{Name: "no-relay-service", Usage: "never serve as a relay for others (overrides node.relay_service)"},
			&ucli.StringFlag{Name: "reachability", Usage: "auto, public or private (overrides node.reachability)"},
			&ucli.StringFlag{Name: "dht", Usage: "off, client, server or auto (overrides node.dht)"},
		},
		Action: a.runDaemon,
	}
}

func (a *app) runDaemon(ctx context.Context, cmd *ucli.Command) error {
	if err := noArgs(cmd); err != nil {
		return err
	}
	d, err := a.prepareDaemon(cmd)
	if err != nil {
		return err
	}
	return d.Run(ctx)
}

// prepareDaemon initialises the data dir if needed, loads the config and
// applies the flags.
func (a *app) prepareDaemon(cmd *ucli.Command) (*daemon.Daemon, error) {
	profile := cmd.String("profile")
	if !slices.Contains(daemon.Profiles, profile) {
		return nil, flagError(cmd, "profile", profile, "want one of "+strings.Join(daemon.Profiles, ", "))
	}
	dir, err := daemon.ResolveDir(cmd.String(flagDataDir))
	if err != nil {
		return nil, err
	}
	r, err := daemon.Init(dir, profile, false, nil)
	if err != nil {
		return nil, fmt.Errorf("data dir %s: %w", dir, err)
	}
	if len(r.Created) > 0 {
		fmt.Fprintf(a.stdout, "initialised %s (profile %s): created %s\n", dir, profile, strings.Join(r.Created, ", "))
	}
	cfg, err := daemon.LoadConfig(dir.Path(daemon.ConfigFile))
	if err != nil {
		return nil, err
	}
	if v := cmd.String("api-addr"); v != "" {
		if _, _, err := net.SplitHostPort(v); err != nil {
			return nil, flagError(cmd, "api-addr", v, "want host:port such as 127.0.0.1:7733 (port 0 picks a free one)")
		}
		cfg.API.Listen = v
	}
	if v := cmd.StringSlice("listen"); len(v) > 0 {
		cfg.Node.Listen = v
	}
	cfg.Node.Bootstrap = append(cfg.Node.Bootstrap, cmd.StringSlice("bootstrap")...)
	if v := cmd.String("log-level"); v != "" {
		if _, err := daemon.ParseLogLevel(v); err != nil {
			return nil, flagError(cmd, "log-level", v, "want debug, info, warn or error")
		}
		cfg.Log.Level = v
	}
	if cmd.Bool("no-relay-service") {
		cfg.Node.RelayService = false
	}
	if v := cmd.String("reachability"); v != "" {
		if !slices.Contains([]string{"auto", "public", "private"}, v) {
			return nil, flagError(cmd, "reachability", v, "want auto, public or private")
		}
		cfg.Node.Reachability = v
	}
	if v := cmd.String("dht"); v != "" {
		if !slices.Contains([]string{"off", "client", "server", "auto"}, v) {
			return nil, flagError(cmd, "dht", v, "want off, client, server or auto")
		}
		cfg.Node.DHT = v
	}
	d, err := daemon.Open(dir, cfg, a.stdout, a.stderr)
	if err != nil {
		return nil, err
	}
	d.Version = version()
	return d, nil
}
