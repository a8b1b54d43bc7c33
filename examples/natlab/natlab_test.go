package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestNATLab runs the lab (see the package documentation): a customer and
// a vendor, each behind its own NAT and given only the relay's address,
// find each other on the DHT, end up directly connected by hole punching
// within 100 s of the daemons' start, and complete intent -> offer ->
// accept twice, the second time with the relay stopped.
func TestNATLab(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the NAT lab creates network namespaces and needs root; run go test as root (.ci/run does)")
	}
	if err := preflight(); err != nil {
		t.Fatalf("%v (.ci/run installs them)", err)
	}
	res, err := scenario(t.Context(), t.TempDir(), t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	if res.PunchedAfter > punchDeadline {
		t.Errorf("directly connected after %v, want within %v", res.PunchedAfter, punchDeadline)
	}
	// The direct connection goes to the home vendor's NAT router: a hole
	// punched through both NATs, not a path the lab offers otherwise.
	if !strings.HasPrefix(res.DirectAddr, "/ip4/"+natIP(2)+"/") {
		t.Errorf("direct connection to %s, want one to the home vendor's NAT router %s", res.DirectAddr, natIP(2))
	}
	if res.Deals != 2 {
		t.Errorf("%d deals, want 2 (one with the relay, one without)", res.Deals)
	}
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatal(err)
	}
	if prefix := (&lab{prefix: labPrefix()}).ns(""); strings.Contains(string(out), prefix) {
		t.Errorf("namespaces left behind:\n%s", out)
	}
}
