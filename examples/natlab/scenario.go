package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/intentcast/intentcast/node/api/client"
)

// Deadlines, generous for a busy 2-core machine.
const (
	// punchDeadline is the bound: customer and home vendor directly
	// connected within 100 s of the daemons' start.
	punchDeadline = 100 * time.Second
	stepTimeout   = 90 * time.Second
)

// result is what the scenario observed, for the test to check.
type result struct {
	PunchedAfter time.Duration // from the daemons' start to a direct connection
	DirectAddr   string        // the customer's direct connection to the home vendor
	Deals        int           // loops completed
}

// scenario runs the whole lab: two homes behind NATs, a public namespace
// with a bootstrap/relay node and a vendor. The customer (home 1) and the
// home vendor (home 2) know only the relay's address. step reports
// progress; root is a scratch directory.
func scenario(ctx context.Context, root string, step func(format string, args ...any)) (res result, err error) {
	step("building the intentcast binary")
	bin, err := buildBinary(ctx, root)
	if err != nil {
		return res, err
	}

	step("creating the namespaces: public (bridge %s), nat1/home1, nat2/home2 (nftables masquerade)", publicIP)
	l, err := newLab(ctx, 2)
	if err != nil {
		return res, err
	}
	var nodes []*daemon
	defer func() {
		for _, d := range slices.Backward(nodes) {
			d.stop()
		}
		if cerr := l.close(); cerr != nil {
			err = errors.Join(err, cerr)
		}
		step("namespaces removed")
	}()
	if err := l.checkIsolated(ctx); err != nil {
		return res, err
	}
	step("checked: no namespace has a default route; every veth stays inside the lab")

	start := time.Now()
	relay, err := startDaemon(ctx, bin, root, nodeSpec{name: "relay", ns: l.ns("public"), port: 4001,
		flags: []string{"--reachability", "public", "--dht", "server"}})
	if err != nil {
		return res, err
	}
	nodes = append(nodes, relay)
	rinfo, err := cliJSON[client.NodeInfo](ctx, relay, "id")
	if err != nil {
		return res, err
	}
	boot := []string{
		fmt.Sprintf("/ip4/%s/tcp/4001/p2p/%s", publicIP, rinfo.PeerID),
		fmt.Sprintf("/ip4/%s/udp/4001/quic-v1/p2p/%s", publicIP, rinfo.PeerID),
	}
	step("relay (bootstrap, relay service, DHT server) up in public: %s", boot[0])

	specs := []nodeSpec{
		{name: "public-vendor", ns: l.ns("public"), port: 4002, vendor: "Public Shop", bootstrap: boot},
		{name: "home-vendor", ns: l.ns("home2"), port: 4001, vendor: "Home Workshop", bootstrap: boot},
		{name: "customer", ns: l.ns("home1"), port: 4001, bootstrap: boot},
	}
	byName := map[string]*daemon{}
	for _, s := range specs {
		d, err := startDaemon(ctx, bin, root, s)
		if err != nil {
			return res, err
		}
		nodes = append(nodes, d)
		byName[s.name] = d
		step("%s up in %s, given only the relay's address", s.name, s.ns)
	}
	cust, hv := byName["customer"], byName["home-vendor"]
	hvInfo, err := cliJSON[client.NodeInfo](ctx, hv, "id")
	if err != nil {
		return res, err
	}

	step("waiting for the customer to find the home vendor (DHT), reach it through the relay and hole punch")
	var lastSeen string
	err = await(ctx, time.Until(start.Add(punchDeadline)), "the customer is directly connected to the home vendor", func() (bool, error) {
		peers, err := cliJSON[[]client.PeerInfo](ctx, cust, "peers")
		if err != nil {
			return false, err
		}
		for _, p := range peers {
			if p.ID != hvInfo.PeerID {
				continue
			}
			lastSeen = fmt.Sprintf("%+v", p.Connections)
			for _, c := range p.Connections {
				if !c.Relayed {
					res.DirectAddr = c.Addr
					return true, nil
				}
			}
		}
		return false, nil
	})
	if err != nil {
		st, _ := cust.cli(ctx, "status")
		return res, fmt.Errorf("%w; customer's connections to the home vendor: %s; customer status:\n%s", err, lastSeen, st)
	}
	res.PunchedAfter = time.Since(start)
	step("direct connection after %v: %s (the home vendor's NAT router is %s)", res.PunchedAfter.Round(time.Second), res.DirectAddr, natIP(2))
	if st, err := cust.cli(ctx, "status"); err == nil {
		step("customer status:\n%s", indent(st))
	}

	if err := loop(ctx, cust, hv, "loop 1 (relay up)", step); err != nil {
		return res, err
	}
	res.Deals++

	step("stopping the relay")
	if err := relay.stop(); err != nil {
		return res, fmt.Errorf("stop relay: %w", err)
	}
	if err := loop(ctx, cust, hv, "loop 2 (relay stopped)", step); err != nil {
		return res, err
	}
	res.Deals++
	return res, nil
}

// loop runs intent -> offer -> accept between a customer and a vendor.
func loop(ctx context.Context, cust, vendor *daemon, label string, step func(string, ...any)) error {
	in, err := cliJSON[client.IntentView](ctx, cust, "intent", "publish", "--category", "electronics",
		"--text", "a used bicycle lamp ("+label+")", "--max-price", "30", "--currency", "EUR", "--expires-in", "1h")
	if err != nil {
		return err
	}
	step("%s: customer published intent %s", label, in.ID[:12])
	if err := await(ctx, stepTimeout, vendor.name+" sees the intent", func() (bool, error) {
		feed, err := cliJSON[[]client.IntentView](ctx, vendor, "vendor", "feed")
		return err == nil && slices.ContainsFunc(feed, func(f client.IntentView) bool { return f.ID == in.ID }), err
	}); err != nil {
		return err
	}
	o, err := cliJSON[client.OfferView](ctx, vendor, "vendor", "offer", in.ID, "--price", "25", "--text", "LED, barely used")
	if err != nil {
		return err
	}
	step("%s: %s sent offer %s", label, vendor.name, o.ID[:12])
	if err := await(ctx, stepTimeout, "the customer receives the offer", func() (bool, error) {
		offers, err := cliJSON[[]client.OfferView](ctx, cust, "offers", "list", in.ID)
		return err == nil && slices.ContainsFunc(offers, func(x client.OfferView) bool { return x.ID == o.ID }), err
	}); err != nil {
		return err
	}
	deal, err := cliJSON[client.DealView](ctx, cust, "offers", "accept", in.ID, o.ID)
	if err != nil {
		return err
	}
	step("%s: customer accepted", label)
	if err := await(ctx, stepTimeout, vendor.name+" records the deal", func() (bool, error) {
		deals, err := cliJSON[[]client.DealView](ctx, vendor, "deals")
		return err == nil && slices.ContainsFunc(deals, func(d client.DealView) bool { return d.OfferID == deal.OfferID }), err
	}); err != nil {
		return err
	}
	step("%s: %s recorded the deal", label, vendor.name)
	return nil
}

// buildBinary builds cmd/intentcast into root.
func buildBinary(ctx context.Context, root string) (string, error) {
	modDir, err := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		return "", fmt.Errorf("go list -m: %w", err)
	}
	bin := filepath.Join(root, "intentcast")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/intentcast")
	cmd.Dir = strings.TrimSpace(string(modDir))
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/intentcast: %w", err)
	}
	return bin, nil
}

func indent(b []byte) string {
	return "    " + strings.ReplaceAll(strings.TrimSpace(string(b)), "\n", "\n    ")
}
