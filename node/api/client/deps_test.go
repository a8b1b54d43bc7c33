package client

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoHeavyDeps keeps the package light: a program that only talks to a
// daemon must not link libp2p or the node. It asks the go command for the
// package's whole import graph, tests' imports included.
func TestNoHeavyDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-test", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	pkgs := strings.Fields(string(out))
	if len(pkgs) < 10 {
		t.Fatalf("go list -deps listed %d packages; want the standard library at least:\n%s", len(pkgs), out)
	}
	heavy := []string{
		"github.com/libp2p/",
		"github.com/multiformats/",
		"github.com/intentcast/intentcast/node",
	}
	const self = "github.com/intentcast/intentcast/node/api/client" // and its test variants
	for _, p := range pkgs {
		if strings.HasPrefix(p, self) {
			continue
		}
		for _, h := range heavy {
			if strings.HasPrefix(p, h) {
				t.Errorf("node/api/client depends on %s; it must stay free of libp2p and the node (move that code to node/api)", p)
			}
		}
	}
}
