package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	p2pcrypto "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	ucli "github.com/urfave/cli/v3"

	"github.com/intentcast/intentcast/crypto"
	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node"
	"github.com/intentcast/intentcast/node/api"
	"github.com/intentcast/intentcast/node/api/client"
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
			&ucli.StringFlag{Name: "profile", Value: "lan", Usage: "profile for a data dir that is not initialised yet: " + strings.Join(profiles, ", ")},
			&ucli.StringFlag{Name: "log-level", Usage: "debug, info, warn or error (overrides log.level)"},
			&ucli.BoolFlag{Name: "no-relay-service", Usage: "never serve as a relay for others (overrides node.relay_service)"},
			&ucli.StringFlag{Name: "reachability", Usage: "auto, public or private (overrides node.reachability)"},
			&ucli.StringFlag{Name: "dht", Usage: "off, client, server or auto (overrides node.dht)"},
		},
		Action: a.runDaemon,
	}
}

// daemonSetup is everything a daemon needs before it starts.
type daemonSetup struct {
	dir      dataDir
	cfg      Config
	nodeKey  p2pcrypto.PrivKey
	identity crypto.Identity
	token    string
	log      *slog.Logger
	level    *slog.LevelVar // SIGHUP reloads it from config.toml
}

func (a *app) runDaemon(ctx context.Context, cmd *ucli.Command) error {
	if err := noArgs(cmd); err != nil {
		return err
	}
	setup, err := a.prepareDaemon(cmd)
	if err != nil {
		return err
	}
	return a.daemon(ctx, setup)
}

// prepareDaemon initialises the data dir if needed, loads the config and
// applies the flags.
func (a *app) prepareDaemon(cmd *ucli.Command) (*daemonSetup, error) {
	profile := cmd.String("profile")
	if !slices.Contains(profiles, profile) {
		return nil, flagError(cmd, "profile", profile, "want one of "+strings.Join(profiles, ", "))
	}
	dir, err := resolveDataDir(cmd.String(flagDataDir))
	if err != nil {
		return nil, err
	}
	r, err := initDataDir(dir, profile, false, nil)
	if err != nil {
		return nil, fmt.Errorf("data dir %s: %w", dir, err)
	}
	if len(r.Created) > 0 {
		fmt.Fprintf(a.stdout, "initialised %s (profile %s): created %s\n", dir, profile, strings.Join(r.Created, ", "))
	}
	cfg, err := loadConfig(dir.path(configFile))
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
		if _, err := parseLogLevel(v); err != nil {
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
	level, _ := parseLogLevel(cfg.Log.Level) // checked by loadConfig
	s := &daemonSetup{dir: dir, cfg: cfg, level: &slog.LevelVar{}}
	s.level.Set(level)
	s.log = slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: s.level}))
	if s.nodeKey, err = readNodeKey(dir.path(nodeKeyFile)); err != nil {
		return nil, err
	}
	if s.identity, err = crypto.ReadIdentityFile(dir.path(vendorKeyFile)); err != nil {
		return nil, err
	}
	if s.token, err = client.ReadToken(dir.path(tokenFile)); err != nil {
		return nil, err
	}
	return s, nil
}

// nodeConfig turns the daemon's config into the node's.
func (s *daemonSetup) nodeConfig(reg prometheus.Registerer) node.Config {
	cats := s.cfg.Node.Categories
	if len(cats) == 0 {
		cats = intent.Categories
	}
	stemEpoch, stemTimeout, _ := s.cfg.Node.stemDurations() // checked by loadConfig
	return node.Config{
		ListenAddrs: s.cfg.Node.Listen,
		PrivKey:     s.nodeKey,
		Bootstrap:   s.cfg.Node.Bootstrap,
		DisableMDNS: s.cfg.Node.DisableMDNS,
		DataDir:     string(s.dir),
		Categories:  cats,
		Policy:      intent.Policy{MinWork: s.cfg.Node.MinWork, MinOfferWork: s.cfg.Node.MinOfferWork, MinRatingWork: s.cfg.Node.MinRatingWork},

		DHT:                 s.cfg.Node.DHT,
		Advertise:           s.cfg.Node.Advertise,
		RelayService:        s.cfg.Node.RelayService,
		Reachability:        s.cfg.Node.Reachability,
		DisableNATTraversal: s.cfg.Node.DisableNATTraversal,

		DisableStem:          s.cfg.Node.DisableStem,
		StemFluffProbability: s.cfg.Node.StemFluffProbability,
		StemEpoch:            stemEpoch,
		StemTimeout:          stemTimeout,

		Vendor:     intent.Vendor{Name: s.cfg.Vendor.Name, URL: s.cfg.Vendor.URL},
		Identity:   s.identity,
		Registerer: reg,
		Logger:     s.log,
	}
}

// daemon runs the node and its API until ctx ends.
func (a *app) daemon(ctx context.Context, s *daemonSetup) (err error) {
	if host, _, _ := net.SplitHostPort(s.cfg.API.Listen); !isLoopback(host) {
		s.log.Warn("the API listens beyond this machine; anyone who reaches it with the token acts as this node", "addr", s.cfg.API.Listen)
	}
	ln, err := listenAPI(s.cfg.API.Listen)
	if err != nil {
		return err
	}
	defer func() {
		if ln != nil {
			ln.Close()
		}
	}()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	n, err := node.New(ctx, s.nodeConfig(reg))
	if err != nil {
		return fmt.Errorf("start node: %w", err)
	}
	defer func() {
		if cerr := n.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close node: %w", cerr))
		}
	}()

	srv, err := serveAPI(n, ln, api.ServerConfig{
		Token:    s.token,
		DataDir:  string(s.dir),
		Registry: reg,
		Version:  version(),
		Logger:   s.log,
		Web:      webHandler(),
	})
	if err != nil {
		return fmt.Errorf("start API: %w", err)
	}
	ln = nil // srv owns it now
	defer func() {
		if cerr := srv.Close(5 * time.Second); cerr != nil {
			err = errors.Join(err, fmt.Errorf("stop API: %w", cerr))
		}
	}()

	// The banner first: whoever waits for api.addr finds it printed.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	a.printDaemonInfo(a.stdout, n, srv, s)
	addrPath := s.dir.path(addrFile)
	if err := writeFileAtomic(addrPath, []byte(srv.addr()+"\n"), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", addrPath, err)
	}
	defer removeIfContent(addrPath, srv.addr()+"\n")

	s.log.Info("daemon ready", "api", srv.url(), "peer", n.ID())

	for {
		select {
		case <-ctx.Done():
			fmt.Fprintln(a.stdout, "stopping...")
			return nil
		case err := <-srv.served:
			srv.served <- err // for Close
			return fmt.Errorf("API server stopped: %w", err)
		case <-hup:
			s.reload()
		}
	}
}

// reload is the daemon's answer to SIGHUP: it reads config.toml again and
// applies what can change while running (the log level); the rest takes
// effect at the next start, and the log says so. A config that does not
// load changes nothing.
func (s *daemonSetup) reload() {
	path := s.dir.path(configFile)
	cfg, err := loadConfig(path)
	if err != nil {
		s.log.Error("SIGHUP: config not reloaded; the daemon runs on as it was", "err", err)
		return
	}
	level, _ := parseLogLevel(cfg.Log.Level) // checked by loadConfig
	s.level.Set(level)
	s.log.Warn("SIGHUP: reloaded the log level from "+path+"; other settings take effect at the next start", "level", level.String())
}

func (a *app) printDaemonInfo(w io.Writer, n *node.Node, srv *apiServer, s *daemonSetup) {
	fmt.Fprintf(w, "intentcast daemon %s\n", version())
	t := newTable(w)
	t.row("peer ID", n.ID().String())
	for i, addr := range n.Addrs() {
		label := ""
		if i == 0 {
			label = "listening"
		}
		t.row(label, addr.String())
	}
	t.row("API", srv.url()+"  (address in "+s.dir.path(addrFile)+")")
	t.row("web page", srv.url()+"/")
	t.row("API token", s.dir.path(tokenFile))
	t.row("data dir", string(s.dir))
	t.flush()
	fmt.Fprintln(w, "Ctrl-C stops the daemon.")
}

// removeIfContent removes path if it still holds content (another daemon
// may have replaced it).
func removeIfContent(path, content string) {
	if b, err := os.ReadFile(path); err == nil && string(b) == content {
		os.Remove(path)
	}
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
