package daemon

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node/api/client"
)

// Config is the daemon's config.toml. The zero value works: the node
// listens on every interface on ports the OS picks, finds peers by mDNS,
// serves every category with the protocol's default proof of work, and the
// API listens on 127.0.0.1:7733.
type Config struct {
	Node   NodeConfig   `toml:"node"`
	API    APIConfig    `toml:"api"`
	Vendor VendorConfig `toml:"vendor"`
	Log    LogConfig    `toml:"log"`
}

// NodeConfig is the [node] section.
type NodeConfig struct {
	// Listen lists the peer-to-peer listen multiaddrs; empty means every
	// IPv4 interface, TCP and QUIC, ports picked by the OS.
	Listen []string `toml:"listen"`
	// Bootstrap lists peers to dial at start (multiaddrs ending in /p2p/ID).
	Bootstrap []string `toml:"bootstrap"`
	// DisableMDNS turns off discovery on the local network.
	DisableMDNS bool `toml:"disable_mdns"`
	// Categories the node serves; empty means all of intent.Categories.
	Categories []string `toml:"categories"`
	// MinWork is the network's minimum proof of work in bits: 0 means
	// intent.DefaultWork, -1 (intent.NoWork) none.
	MinWork int `toml:"min_work"`
	// MinOfferWork is the network's minimum proof of work of a sealed
	// offer in bits: 0 means intent.DefaultOfferWork, -1 none.
	MinOfferWork int `toml:"min_offer_work"`
	// MinRatingWork is the network's minimum proof of work of a rating, a
	// rating reply and a vendor profile in bits: 0 means
	// intent.DefaultRatingWork, -1 none.
	MinRatingWork int `toml:"min_rating_work"`
	// DHT is off, client, server or auto; empty means off.
	DHT string `toml:"dht"`
	// Advertise is auto, always or never; empty means auto.
	Advertise string `toml:"advertise"`
	// RelayService serves circuit relay v2 for others while public.
	RelayService bool `toml:"relay_service"`
	// Reachability is auto, public or private; empty means auto.
	Reachability string `toml:"reachability"`
	// DisableNATTraversal turns off the relay client, AutoNAT and hole punching.
	DisableNATTraversal bool `toml:"disable_nat_traversal"`
	// The stem phase (node.Config's Stem fields): DisableStem sends own
	// messages straight into gossip; zero values mean the node's defaults.
	DisableStem          bool    `toml:"disable_stem"`
	StemFluffProbability float64 `toml:"stem_fluff_probability"`
	StemEpoch            string  `toml:"stem_epoch"`   // a Go duration; "" means 10m
	StemTimeout          string  `toml:"stem_timeout"` // a Go duration; "" means 4s
	// The connection manager's watermarks (node.Config's ConnLow and
	// ConnHigh); 0 means the default, 32 and 96.
	ConnLow  int `toml:"conn_low"`
	ConnHigh int `toml:"conn_high"`
}

// stemDurations parses the stem's durations ("" is zero: the default).
func (n NodeConfig) stemDurations() (epoch, timeout time.Duration, err error) {
	parse := func(key, v string) (time.Duration, error) {
		if v == "" {
			return 0, nil
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return 0, fmt.Errorf("node.%s = %q: want a positive duration such as 10m or 4s, or leave it out for the default", key, v)
		}
		return d, nil
	}
	if epoch, err = parse("stem_epoch", n.StemEpoch); err != nil {
		return 0, 0, err
	}
	timeout, err = parse("stem_timeout", n.StemTimeout)
	return epoch, timeout, err
}

// APIConfig is the [api] section.
type APIConfig struct {
	// Listen is the API's host:port; empty means 127.0.0.1:7733. Port 0
	// picks a free port (the daemon writes it to api.addr).
	Listen string `toml:"listen"`
}

// VendorConfig is the [vendor] section: how offers present the vendor.
type VendorConfig struct {
	Name string `toml:"name"`
	URL  string `toml:"url"`
}

// LogConfig is the [log] section.
type LogConfig struct {
	// Level is debug, info, warn or error; empty means info.
	Level string `toml:"level"`
}

// defaultP2PPort is the peer-to-peer port of the lan and internet profiles.
const defaultP2PPort = 4001

// Profiles are the starting points init offers.
var Profiles = []string{"lan", "internet", "test"}

// ProfileConfig returns the config a profile starts from, with every
// default spelled out.
func ProfileConfig(profile string) (Config, error) {
	c := Config{
		Node: NodeConfig{
			Listen: []string{
				fmt.Sprintf("/ip4/0.0.0.0/tcp/%d", defaultP2PPort),
				fmt.Sprintf("/ip4/0.0.0.0/udp/%d/quic-v1", defaultP2PPort),
			},
			Bootstrap:     []string{},
			Categories:    []string{},
			MinWork:       intent.DefaultWork,
			MinOfferWork:  intent.DefaultOfferWork,
			MinRatingWork: intent.DefaultRatingWork,
			DHT:           "off",
			Advertise:     "auto",
			Reachability:  "auto",
		},
		API: APIConfig{Listen: client.DefaultAddr},
		Log: LogConfig{Level: "info"},
	}
	switch profile {
	case "lan":
	case "internet":
		c.Node.DisableMDNS = true
		c.Node.DHT = "auto"
		c.Node.RelayService = true
	case "test":
		c.Node.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
		c.Node.DisableMDNS = true
		c.Node.MinWork = testMinWork
		c.Node.MinOfferWork = testMinWork
		c.Node.MinRatingWork = testMinWork
		c.API.Listen = "127.0.0.1:0"
	default:
		return Config{}, fmt.Errorf("unknown profile %q; want one of %s", profile, strings.Join(Profiles, ", "))
	}
	return c, nil
}

// testMinWork is the proof of work of the test profile: every node of a test
// network uses it, so intents mint in about a millisecond.
const testMinWork = 8

// withDefaults fills the zero fields of c.
func (c Config) withDefaults() Config {
	if c.API.Listen == "" {
		c.API.Listen = client.DefaultAddr
	}
	if c.Log.Level == "" {
		c.Log.Level = "info"
	}
	return c
}

// check validates c (after withDefaults), naming the bad key.
func (c Config) check() error {
	for i, cat := range c.Node.Categories {
		if err := intent.CheckCategory(cat); err != nil {
			return fmt.Errorf("node.categories[%d]: %q is not a category; want some of %s", i, cat, strings.Join(intent.Categories, ", "))
		}
	}
	if c.Node.MinWork < intent.NoWork || c.Node.MinWork > 64 {
		return fmt.Errorf("node.min_work = %d: want 0 (the default, %d bits), -1 (none) or a number of bits up to 64", c.Node.MinWork, intent.DefaultWork)
	}
	if c.Node.MinOfferWork < intent.NoWork || c.Node.MinOfferWork > intent.MaxWork {
		return fmt.Errorf("node.min_offer_work = %d: want 0 (the default, %d bits), -1 (none) or a number of bits up to %d", c.Node.MinOfferWork, intent.DefaultOfferWork, intent.MaxWork)
	}
	if c.Node.MinRatingWork < intent.NoWork || c.Node.MinRatingWork > intent.MaxWork {
		return fmt.Errorf("node.min_rating_work = %d: want 0 (the default, %d bits), -1 (none) or a number of bits up to %d", c.Node.MinRatingWork, intent.DefaultRatingWork, intent.MaxWork)
	}
	if !slices.Contains([]string{"", "off", "client", "server", "auto"}, c.Node.DHT) {
		return fmt.Errorf("node.dht = %q: want off, client, server or auto", c.Node.DHT)
	}
	if !slices.Contains([]string{"", "auto", "always", "never"}, c.Node.Advertise) {
		return fmt.Errorf("node.advertise = %q: want auto, always or never", c.Node.Advertise)
	}
	if !slices.Contains([]string{"", "auto", "public", "private"}, c.Node.Reachability) {
		return fmt.Errorf("node.reachability = %q: want auto, public or private", c.Node.Reachability)
	}
	if p := c.Node.StemFluffProbability; p < 0 || p > 1 {
		return fmt.Errorf("node.stem_fluff_probability = %v: want a probability above 0 and at most 1 (0 means the default, 0.1)", p)
	}
	if _, _, err := c.Node.stemDurations(); err != nil {
		return err
	}
	if err := c.Node.checkConns(); err != nil {
		return err
	}
	if _, _, err := net.SplitHostPort(c.API.Listen); err != nil {
		return fmt.Errorf("api.listen = %q: want host:port such as %s", c.API.Listen, client.DefaultAddr)
	}
	if _, err := ParseLogLevel(c.Log.Level); err != nil {
		return fmt.Errorf("log.level: %w", err)
	}
	return nil
}

// maxConnHigh bounds node.conn_high: the resource manager's budget (512
// file descriptors, 256 MiB) does not grow with it, so beyond a few hundred
// peers those limits bind first.
const maxConnHigh = 1000

// checkConns validates the connection watermarks: 0 (the default) or
// 1 <= conn_low <= conn_high <= maxConnHigh, either alone allowed.
func (n NodeConfig) checkConns() error {
	low, high := n.ConnLow, n.ConnHigh
	switch {
	case low < 0 || low > maxConnHigh:
		return fmt.Errorf("node.conn_low = %d: want 0 (the default, 32) or a number of connections from 1 to %d", low, maxConnHigh)
	case high < 0 || high > maxConnHigh:
		return fmt.Errorf("node.conn_high = %d: want 0 (the default, 96) or a number of connections from 1 to %d", high, maxConnHigh)
	case low > 0 && high > 0 && low > high:
		return fmt.Errorf("node.conn_low = %d is above node.conn_high = %d: the node trims connections down to conn_low once it has more than conn_high, so want conn_low <= conn_high", low, high)
	}
	return nil
}

// ParseLogLevel reads a log level: debug, info, warn or error.
func ParseLogLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("%q: want debug, info, warn or error", s)
	}
	return l, nil
}

// LoadConfig reads and checks a config file. Unknown keys are errors, so a
// typo does not silently fall back to a default.
func LoadConfig(path string) (Config, error) {
	var c Config
	md, err := toml.DecodeFile(path, &c)
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return Config{}, fmt.Errorf("config %s: unknown key(s) %s; check the spelling, or see a fresh file from `intentcast init --force-config` (it keeps your keys)",
			path, strings.Join(keys, ", "))
	}
	c = c.withDefaults()
	if err := c.check(); err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

var configTemplate = template.Must(template.New("config").Funcs(template.FuncMap{
	"toml": tomlValue,
	"join": strings.Join,
}).Parse(`# intentcast node configuration (profile "{{.Profile}}"), written by ` + "`intentcast init`" + `.
# Every setting is written out with its default. Edit, then restart the daemon.
# ` + "`intentcast init --force-config`" + ` rewrites this file, and only this file.

[node]
# Multiaddrs the node listens on for peers. Port 0 lets the OS pick a free
# port (a new one on every start); fixed ports let others bootstrap to you.
listen = {{toml .C.Node.Listen}}

# Peers to dial at start, each a multiaddr ending in /p2p/<peer ID>. Nodes on
# one local network find each other by mDNS without any. They are redialled,
# with backoff, whenever the node is short of peers for a category. Peers
# met since are kept in peers.json in the data dir and redialled at start.
{{- if and (eq .Profile "internet") (not .C.Node.Bootstrap)}}
bootstrap = [
  # "/ip4/203.0.113.7/tcp/4001/p2p/12D3KooW...",
  # ('intentcast init --profile internet --bootstrap ADDR' fills this in)
]
{{- else}}
bootstrap = {{toml .C.Node.Bootstrap}}
{{- end}}

# Set to true to stop looking for peers on the local network (mDNS).
disable_mdns = {{toml .C.Node.DisableMDNS}}

# Categories this node serves: it relays their intents, can publish in them
# and sees them as a vendor. Empty means all of them:
# {{join .Categories ", "}}
categories = {{toml .C.Node.Categories}}

# The network's minimum proof of work of an intent, in bits. Every node of a
# network must use the same value (intents below it are rejected). {{.DefaultWork}} is
# the public network's (about a second of one core to mint); 0 means that
# default; -1 means none, for private test networks only.
min_work = {{toml .C.Node.MinWork}}

# The network's minimum proof of work of a sealed offer, in bits: sending an
# offer mints it. Every node of a network must use the same value. {{.DefaultOfferWork}} is
# the public network's (about 70 ms of one core); 0 means that default; -1
# means none, for private test networks only.
min_offer_work = {{toml .C.Node.MinOfferWork}}

# The network's minimum proof of work of a rating, a vendor's reply to one
# and a vendor profile, in bits: rating or replying mints it. Every node of
# a network must use the same value. {{.DefaultRatingWork}} is the public network's (about
# a second of one core); 0 means that default; -1 means none, for private
# test networks only.
min_rating_work = {{toml .C.Node.MinRatingWork}}

# The Kademlia DHT (/intentcast/kad/1.0.0) finds peers beyond the bootstrap
# list: for each category short of peers, the node looks up who serves it.
#   off     no DHT (a LAN, or a fixed list of peers)
#   client  look up only
#   server  also answer lookups and keep others' records (a public node)
#   auto    server while AutoNAT finds this node publicly reachable
dht = {{toml .C.Node.DHT}}

# Whether to announce on the DHT the categories this node serves, so that
# others find it. An announcement names the categories: a customer that made
# one would tell the network what it is interested in, so
#   auto    announce only as a vendor (vendor.name set), or while this
#           node relays for others (relay_service, and found public)
#   always  announce anyway
#   never   only look up
advertise = {{toml .C.Node.Advertise}}

# Serve as a circuit relay v2 for nodes behind NATs (and answer their AutoNAT
# probes), only while AutoNAT finds this node publicly reachable. The relay
# keeps to libp2p's limits: 128 reservations (8 per IP), 16 circuits at once,
# 2 minutes and 128 KiB per circuit; a relayed connection only lasts until
# hole punching replaces it. Set false to never relay for others.
relay_service = {{toml .C.Node.RelayService}}

# Whether others can dial this node at its own addresses:
#   auto     find out with AutoNAT (peers dial back)
#   public   a server with a public IP and open ports (skips the probing)
#   private  always behind a NAT: reserve relay slots at once
reachability = {{toml .C.Node.Reachability}}

# Set to true to turn off the relay client, AutoNAT and hole punching. They
# only act on public addresses, so a LAN does not need this.
disable_nat_traversal = {{toml .C.Node.DisableNATTraversal}}

# The stem phase (/intentcast/stem/1) hides which node published an intent,
# cancel or accept: it is first passed along a short random path of peers,
# and only the last one publishes it into gossip (docs/PROTOCOL.md, PRIVACY.md).
# Set disable_stem = true to publish own messages straight into gossip (the
# node still relays others' stem messages). stem_fluff_probability is the
# chance that a node ends a stem rather than passing it on (1/p is the
# expected stem length; 0 means 0.1); stem_epoch how long a node keeps its
# stem successor ("" means 10m); stem_timeout the fail-safe after which a
# message not yet seen in gossip is published by whoever holds it ("" means 4s).
disable_stem = {{toml .C.Node.DisableStem}}
stem_fluff_probability = {{toml .C.Node.StemFluffProbability}}
stem_epoch = {{toml .C.Node.StemEpoch}}
stem_timeout = {{toml .C.Node.StemTimeout}}

# The connection manager's watermarks: above conn_high connections the node
# closes the least useful ones down to conn_low, and below conn_low it looks
# for more peers. 0 means 32 and 96 (kubo's values; gossipsub keeps 6-12 peers
# per topic, mostly the same ones). A public bootstrap node may want more, up
# to 1000; inbound connections are limited to conn_high, all to twice that,
# within a fixed budget of 512 file descriptors and 256 MiB.
conn_low = {{toml .C.Node.ConnLow}}
conn_high = {{toml .C.Node.ConnHigh}}

[api]
# host:port of the local HTTP API and web page. Keep it on 127.0.0.1: the API
# acts for you (its bearer token is in api.token). Port 0 picks a free port;
# the daemon writes the address it got to api.addr, where the CLI finds it.
listen = {{toml .C.API.Listen}}

[vendor]
# How your offers present you to customers (used only when you make offers).
name = {{toml .C.Vendor.Name}}
url = {{toml .C.Vendor.URL}}

[log]
# debug, info, warn or error.
level = {{toml .C.Log.Level}}
`))

// renderConfig writes c as a commented config.toml.
func renderConfig(c Config, profile string) ([]byte, error) {
	var b bytes.Buffer
	err := configTemplate.Execute(&b, struct {
		Profile           string
		C                 Config
		Categories        []string
		DefaultWork       int
		DefaultOfferWork  int
		DefaultRatingWork int
	}{profile, c, intent.Categories, intent.DefaultWork, intent.DefaultOfferWork, intent.DefaultRatingWork})
	if err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// tomlValue encodes one value as TOML.
func tomlValue(v any) (string, error) {
	var b bytes.Buffer
	if err := toml.NewEncoder(&b).Encode(map[string]any{"v": v}); err != nil {
		return "", err
	}
	s, ok := strings.CutPrefix(strings.TrimSpace(b.String()), "v = ")
	if !ok {
		return "", errors.New("toml: unexpected encoding of " + b.String())
	}
	return s, nil
}

// fileExists reports whether path exists.
func fileExists(path string) (bool, error) {
	_, err := os.Stat(path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, os.ErrNotExist):
		return false, nil
	}
	return false, err
}
