// Command natlab runs intentcast across NATs on this machine: it builds
// network namespaces (a "public" one with a bootstrap/relay node and a
// vendor, and two homes, each behind a NAT router doing nftables
// masquerade), starts real daemons in them, and drives a customer in one
// home and a vendor in the other, who know only the relay's address,
// through intent -> offer -> accept: first while the relay runs, after they
// found each other on the DHT and hole punched a direct connection, then
// again with the relay stopped. It prints each step.
//
//	sudo go run ./examples/natlab
//
// It needs root, ip (iproute2) and nft (nftables). The lab's "internet" is
// 11.0.0.0/24 on veth pairs between its own namespaces only: none is linked
// to the machine's namespace or has a default route (checked before it
// starts), and it removes every namespace when it ends, also on Ctrl-C.
package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := preflight(); err != nil {
		fmt.Fprintln(os.Stderr, "natlab:", err)
		os.Exit(2)
	}
	root, err := os.MkdirTemp("", "natlab-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "natlab:", err)
		os.Exit(1)
	}
	defer os.RemoveAll(root)
	start := time.Now()
	step := func(format string, args ...any) {
		fmt.Printf("[%5.1fs] %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
	}
	res, err := scenario(ctx, root, step)
	if err != nil {
		fmt.Fprintln(os.Stderr, "natlab:", err)
		os.Exit(1)
	}
	step("done: hole punched after %v, %d deals", res.PunchedAfter.Round(time.Second), res.Deals)
}

// preflight says what is missing to run the lab.
func preflight() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("needs root to create network namespaces; run it as root (sudo go run ./examples/natlab)")
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("needs %s: apt-get install iproute2 nftables", tool)
		}
	}
	return nil
}
