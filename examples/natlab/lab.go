package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
)

// The lab's addresses. The "internet" is a public-looking range, as
// go-libp2p hole punches, reserves relay slots and answers AutoNAT only
// for public addresses; it exists only on veth pairs between the lab's own
// namespaces, none of which is linked to the machine's namespace or has a
// default route (checkIsolated). 11.0.0.0/8 is not announced on the
// internet, and nothing here could reach it anyway.
const (
	internetNet = "11.0.0.0/24"
	publicIP    = "11.0.0.1" // the bridge in the public namespace
)

// natIP is the WAN address of home i's NAT router; homeIP its LAN host.
func natIP(i int) string  { return fmt.Sprintf("11.0.0.%d", 1+i) }
func homeIP(i int) string { return fmt.Sprintf("10.%d.0.2", i) }

// lab is a set of network namespaces: "public" (a bridge that is the
// internet), and for each home i a NAT router "nat<i>" (masquerade,
// unsolicited inbound dropped, as a home router) and the home "home<i>"
// behind it.
type lab struct {
	prefix string
	homes  int
	made   []string // namespaces created, for teardown
}

func (l *lab) ns(name string) string { return l.prefix + name }

// labPrefix starts the names of this process's namespaces.
func labPrefix() string { return fmt.Sprintf("icl%d", os.Getpid()) }

func (l *lab) names() []string {
	out := []string{l.ns("public")}
	for i := 1; i <= l.homes; i++ {
		out = append(out, l.ns(fmt.Sprint("nat", i)), l.ns(fmt.Sprint("home", i)))
	}
	return out
}

// newLab builds the namespaces; on error it removes what it made.
func newLab(ctx context.Context, homes int) (l *lab, err error) {
	l = &lab{prefix: labPrefix(), homes: homes}
	defer func() {
		if err != nil {
			l.close()
		}
	}()
	for _, n := range l.names() {
		if err := run(ctx, "ip", "netns", "add", n); err != nil {
			return nil, err
		}
		l.made = append(l.made, n)
		if err := run(ctx, "ip", "-n", n, "link", "set", "lo", "up"); err != nil {
			return nil, err
		}
	}
	pub := l.ns("public")
	if err := runAll(ctx,
		[]string{"ip", "-n", pub, "link", "add", "br0", "type", "bridge"},
		[]string{"ip", "-n", pub, "addr", "add", publicIP + "/24", "dev", "br0"},
		[]string{"ip", "-n", pub, "link", "set", "br0", "up"},
	); err != nil {
		return nil, err
	}
	for i := 1; i <= homes; i++ {
		nat, home := l.ns(fmt.Sprint("nat", i)), l.ns(fmt.Sprint("home", i))
		port := fmt.Sprint("nat", i)
		if err := runAll(ctx,
			// WAN: a veth from the router to the public bridge.
			[]string{"ip", "-n", nat, "link", "add", "wan", "type", "veth", "peer", "name", port, "netns", pub},
			[]string{"ip", "-n", pub, "link", "set", port, "master", "br0", "up"},
			[]string{"ip", "-n", nat, "addr", "add", natIP(i) + "/24", "dev", "wan"},
			[]string{"ip", "-n", nat, "link", "set", "wan", "up"},
			// LAN: a veth from the router to the home.
			[]string{"ip", "-n", nat, "link", "add", "lan", "type", "veth", "peer", "name", "eth0", "netns", home},
			[]string{"ip", "-n", nat, "addr", "add", fmt.Sprintf("10.%d.0.1/24", i), "dev", "lan"},
			[]string{"ip", "-n", nat, "link", "set", "lan", "up"},
			[]string{"ip", "-n", home, "addr", "add", homeIP(i) + "/24", "dev", "eth0"},
			[]string{"ip", "-n", home, "link", "set", "eth0", "up"},
			// The home reaches the internet through its router: a route
			// to the lab's internet only, no default route.
			[]string{"ip", "-n", home, "route", "add", internetNet, "via", fmt.Sprintf("10.%d.0.1", i)},
			[]string{"ip", "netns", "exec", nat, "sysctl", "-qw", "net.ipv4.ip_forward=1"},
		); err != nil {
			return nil, err
		}
		if err := l.nat(ctx, nat); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// natRules make a home router: masquerade what leaves by the WAN (nftables
// keeps the source port when it is free, as most home routers do), and
// drop, silently, new connections that come in by it.
const natRules = `
table ip natlab {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "wan" masquerade
	}
	chain input {
		type filter hook input priority filter; policy accept;
		iifname "wan" ct state new drop
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
		iifname "wan" ct state new drop
	}
}
`

func (l *lab) nat(ctx context.Context, ns string) error {
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", ns, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(natRules)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("nft in %s: %v: %s", ns, err, out)
	}
	return nil
}

// checkIsolated verifies, before anything runs, that the lab cannot reach
// the machine's network: no namespace has a default route, and every veth
// leads to another lab namespace (the machine's own namespace has no name,
// so a veth into it would not map to one).
func (l *lab) checkIsolated(ctx context.Context) error {
	names := l.names()
	for _, n := range names {
		for _, family := range []string{"-4", "-6"} {
			var routes []json.RawMessage
			if err := runJSON(ctx, &routes, "ip", family, "-n", n, "-j", "route", "show", "default"); err != nil {
				return err
			}
			if len(routes) > 0 {
				return fmt.Errorf("namespace %s has a default route (%s): the lab must not reach beyond itself", n, routes[0])
			}
		}
		var ids []struct {
			NSID int    `json:"nsid"`
			Name string `json:"name"`
		}
		if err := runJSON(ctx, &ids, "ip", "-n", n, "-j", "netns", "list-id"); err != nil {
			return err
		}
		var links []struct {
			Name     string `json:"ifname"`
			NetNSID  *int   `json:"link_netnsid"`
			LinkInfo struct {
				Kind string `json:"info_kind"`
			} `json:"linkinfo"`
		}
		if err := runJSON(ctx, &links, "ip", "-n", n, "-j", "-d", "link", "show"); err != nil {
			return err
		}
		for _, link := range links {
			switch link.LinkInfo.Kind {
			case "", "bridge": // lo, br0
				if link.Name != "lo" && link.Name != "br0" {
					return fmt.Errorf("namespace %s has an unexpected interface %s", n, link.Name)
				}
				continue
			case "veth":
			default:
				return fmt.Errorf("namespace %s has an unexpected %s interface %s", n, link.LinkInfo.Kind, link.Name)
			}
			if link.NetNSID == nil {
				return fmt.Errorf("veth %s in %s has its peer in the same namespace", link.Name, n)
			}
			i := slices.IndexFunc(ids, func(id struct {
				NSID int    `json:"nsid"`
				Name string `json:"name"`
			}) bool {
				return id.NSID == *link.NetNSID
			})
			if i < 0 || !slices.Contains(names, ids[i].Name) {
				return fmt.Errorf("veth %s in %s leads outside the lab (netns id %d)", link.Name, n, *link.NetNSID)
			}
		}
	}
	return nil
}

// close removes the namespaces, and with them their interfaces and rules.
// Processes still running in them must be stopped first.
func (l *lab) close() error {
	var errs []error
	for _, n := range slices.Backward(l.made) {
		if out, err := exec.Command("ip", "netns", "del", n).CombinedOutput(); err != nil {
			errs = append(errs, fmt.Errorf("ip netns del %s: %v: %s", n, err, out))
		}
	}
	l.made = nil
	return errors.Join(errs...)
}

func run(ctx context.Context, args ...string) error {
	if out, err := exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

func runAll(ctx context.Context, cmds ...[]string) error {
	for _, c := range cmds {
		if err := run(ctx, c...); err != nil {
			return err
		}
	}
	return nil
}

func runJSON(ctx context.Context, v any, args ...string) error {
	out, err := exec.CommandContext(ctx, args[0], args[1:]...).Output()
	if err != nil {
		return fmt.Errorf("%s: %v", strings.Join(args, " "), err)
	}
	if len(bytes.TrimSpace(out)) == 0 {
		out = []byte("[]")
	}
	if err := json.Unmarshal(out, v); err != nil {
		return fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}
