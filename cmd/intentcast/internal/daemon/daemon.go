package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	p2pcrypto "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/intentcast/intentcast/crypto"
	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node"
	"github.com/intentcast/intentcast/node/api"
	"github.com/intentcast/intentcast/node/api/client"
	"github.com/intentcast/intentcast/node/api/web"
)

// Daemon is a node and its API as the daemon command runs them, from a
// data directory. Open makes one; Run runs it.
type Daemon struct {
	Dir    Dir
	Config Config
	// Version is reported by the API and the banner.
	Version string
	// Stdout receives the banner (what runs where) and "stopping...".
	Stdout io.Writer
	// Log is the daemon's logger; its level follows Config.Log.Level, and
	// SIGHUP reloads it from config.toml.
	Log *slog.Logger

	level    *slog.LevelVar
	nodeKey  p2pcrypto.PrivKey
	identity crypto.Identity
	token    string
}

// Open reads the keys and the API token of an initialised data directory
// (Init) for a daemon with cfg (LoadConfig, then any overrides). Logs go to
// stderr as text; stdout gets the banner.
func Open(dir Dir, cfg Config, stdout, stderr io.Writer) (*Daemon, error) {
	level, err := ParseLogLevel(cfg.Log.Level)
	if err != nil {
		return nil, fmt.Errorf("log.level: %w", err)
	}
	d := &Daemon{Dir: dir, Config: cfg, Stdout: stdout, level: &slog.LevelVar{}}
	d.level.Set(level)
	d.Log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: d.level}))
	if d.nodeKey, err = ReadNodeKey(dir.Path(NodeKeyFile)); err != nil {
		return nil, err
	}
	if d.identity, err = crypto.ReadIdentityFile(dir.Path(VendorKeyFile)); err != nil {
		return nil, err
	}
	if d.token, err = client.ReadToken(dir.Path(TokenFile)); err != nil {
		return nil, err
	}
	return d, nil
}

// NodeConfig turns the daemon's config into the node'd.
func (d *Daemon) NodeConfig(reg prometheus.Registerer) node.Config {
	cats := d.Config.Node.Categories
	if len(cats) == 0 {
		cats = intent.Categories
	}
	stemEpoch, stemTimeout, _ := d.Config.Node.stemDurations() // checked by LoadConfig
	return node.Config{
		ListenAddrs: d.Config.Node.Listen,
		PrivKey:     d.nodeKey,
		Bootstrap:   d.Config.Node.Bootstrap,
		DisableMDNS: d.Config.Node.DisableMDNS,
		DataDir:     string(d.Dir),
		Categories:  cats,
		Policy:      intent.Policy{MinWork: d.Config.Node.MinWork, MinOfferWork: d.Config.Node.MinOfferWork, MinRatingWork: d.Config.Node.MinRatingWork},

		DHT:                 d.Config.Node.DHT,
		Advertise:           d.Config.Node.Advertise,
		RelayService:        d.Config.Node.RelayService,
		Reachability:        d.Config.Node.Reachability,
		DisableNATTraversal: d.Config.Node.DisableNATTraversal,

		DisableStem:          d.Config.Node.DisableStem,
		StemFluffProbability: d.Config.Node.StemFluffProbability,
		StemEpoch:            stemEpoch,
		StemTimeout:          stemTimeout,
		ConnLow:              d.Config.Node.ConnLow,
		ConnHigh:             d.Config.Node.ConnHigh,

		Vendor:     intent.Vendor{Name: d.Config.Vendor.Name, URL: d.Config.Vendor.URL},
		Identity:   d.identity,
		Registerer: reg,
		Logger:     d.Log,
	}
}

// Run runs the node and its API until ctx ends, and reloads the log level
// from config.toml at each SIGHUP.
func (d *Daemon) Run(ctx context.Context) (err error) {
	if host, _, _ := net.SplitHostPort(d.Config.API.Listen); !isLoopback(host) {
		d.Log.Warn("the API listens beyond this machine; anyone who reaches it with the token acts as this node", "addr", d.Config.API.Listen)
	}
	ln, err := ListenAPI(d.Config.API.Listen)
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
	n, err := node.New(ctx, d.NodeConfig(reg))
	if err != nil {
		return fmt.Errorf("start node: %w", err)
	}
	defer func() {
		if cerr := n.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close node: %w", cerr))
		}
	}()

	srv, err := ServeAPI(n, ln, api.ServerConfig{
		Token:    d.token,
		DataDir:  string(d.Dir),
		Registry: reg,
		Version:  d.Version,
		Logger:   d.Log,
		Web:      web.Handler(),
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
	d.printBanner(n, srv)
	addrPath := d.Dir.Path(AddrFile)
	if err := WriteFileAtomic(addrPath, []byte(srv.Addr()+"\n"), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", addrPath, err)
	}
	defer removeIfContent(addrPath, srv.Addr()+"\n")

	d.Log.Info("daemon ready", "api", srv.URL(), "peer", n.ID())

	for {
		select {
		case <-ctx.Done():
			fmt.Fprintln(d.Stdout, "stopping...")
			return nil
		case err := <-srv.served:
			srv.served <- err // for Close
			return fmt.Errorf("API server stopped: %w", err)
		case <-hup:
			d.reload()
		}
	}
}

// reload is the daemon's answer to SIGHUP: it reads config.toml again and
// applies what can change while running (the log level); the rest takes
// effect at the next start, and the log says so. A config that does not
// load changes nothing.
func (d *Daemon) reload() {
	path := d.Dir.Path(ConfigFile)
	cfg, err := LoadConfig(path)
	if err != nil {
		d.Log.Error("SIGHUP: config not reloaded; the daemon runs on as it was", "err", err)
		return
	}
	level, _ := ParseLogLevel(cfg.Log.Level) // checked by LoadConfig
	d.level.Set(level)
	d.Log.Warn("SIGHUP: reloaded the log level from "+path+"; other settings take effect at the next start", "level", level.String())
}

// printBanner says what the daemon is and where to reach it.
func (d *Daemon) printBanner(n *node.Node, srv *APIServer) {
	fmt.Fprintf(d.Stdout, "intentcast daemon %s\n", d.Version)
	tw := tabwriter.NewWriter(d.Stdout, 0, 0, 2, ' ', 0)
	row := func(label, value string) { fmt.Fprintf(tw, "%s\t%s\n", label, value) }
	row("peer ID", n.ID().String())
	for i, addr := range n.Addrs() {
		label := ""
		if i == 0 {
			label = "listening"
		}
		row(label, addr.String())
	}
	row("API", srv.URL()+"  (address in "+d.Dir.Path(AddrFile)+")")
	row("web page", srv.URL()+"/")
	row("API token", d.Dir.Path(TokenFile))
	row("data dir", string(d.Dir))
	tw.Flush()
	fmt.Fprintln(d.Stdout, "Ctrl-C stops the daemon.")
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
