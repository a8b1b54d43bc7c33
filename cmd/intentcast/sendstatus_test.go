package main_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/intentcast/intentcast/node/api/client"
)

// TestQueuedThenSent runs two daemons (the binary, separate data dirs,
// loopback). The customer's has no peer when it publishes through the
// CLI: the command succeeds, says the intent is queued for want of peers
// and warns on stderr, and the intent stays queued (not "sent"). Once the
// customer connects to the vendor's daemon the intent leaves: the CLI
// shows it sent (or already seen by the network), and the vendor's feed
// lists it.
func TestQueuedThenSent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs daemon processes")
	}
	bin := buildBinary(t)
	root := t.TempDir()
	cdir, vdir := filepath.Join(root, "customer"), filepath.Join(root, "vendor")
	startDaemon(t, bin, cdir)

	r := cli(t, bin, cdir, "intent", "publish", "--category", "electronics", "--path", "laptops",
		"--text", "published with no peers", "--max-price", "900", "--currency", "EUR", "--expires-in", "1h")
	if r.code != 0 {
		t.Fatalf("publish with no peers: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "queued: no peers") || strings.Contains(r.stdout, "sent to") {
		t.Errorf("publish with no peers did not say the intent is queued:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "warning: this node has no peers") {
		t.Errorf("publish with no peers did not warn on stderr:\n%s", r.stderr)
	}
	own := cliJSON[[]client.IntentView](t, bin, cdir, "intent", "list")
	if len(own) != 1 || own[0].Send == nil || own[0].Send.Status != client.SendQueued {
		t.Fatalf("with no peers the intent list says %+v, want one intent with send status queued", own)
	}
	id := own[0].ID

	// Still queued while nothing changes: no status moves on by itself.
	if r := cli(t, bin, cdir, "intent", "show", id); r.code != 0 || !strings.Contains(r.stdout, "queued: no peers") {
		t.Errorf("intent show with no peers: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	startDaemon(t, bin, vdir)
	vinfo := cliJSON[client.NodeInfo](t, bin, vdir, "id")
	if r := cli(t, bin, cdir, "peers", "connect", vinfo.Addrs[0]); r.code != 0 {
		t.Fatalf("peers connect: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var shown string
	eventually(t, 20*time.Second, "the customer's CLI shows the intent sent", func() bool {
		r := cli(t, bin, cdir, "intent", "show", id)
		shown = r.stdout
		return r.code == 0 && (strings.Contains(r.stdout, "sent to") || strings.Contains(r.stdout, "seen by the network"))
	})
	if strings.Contains(shown, "queued") {
		t.Errorf("intent show says both sent and queued:\n%s", shown)
	}
	eventually(t, 20*time.Second, "the vendor's feed lists the queued intent", func() bool {
		feed := cliJSON[[]client.IntentView](t, bin, vdir, "vendor", "feed")
		return slices.ContainsFunc(feed, func(f client.IntentView) bool { return f.ID == id })
	})
	v := cliJSON[client.IntentView](t, bin, cdir, "intent", "show", id)
	if v.Send == nil || (v.Send.Status != client.SendSent && v.Send.Status != client.SendSeen) || v.Send.Sent.IsZero() {
		t.Errorf("after the peer connected the intent's send status is %+v", v.Send)
	}
}
