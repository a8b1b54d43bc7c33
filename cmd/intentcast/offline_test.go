package main_test

import (
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/intentcast/intentcast/node/api/client"
)

// stop ends the daemon with SIGTERM and waits until it is gone.
func (d *daemon) stop(t *testing.T) {
	t.Helper()
	d.killed = true // the cleanup has nothing left to stop
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-d.exited:
	case <-time.After(patience):
		d.cmd.Process.Kill()
		<-d.exited
		t.Fatalf("daemon did not stop within %v of SIGTERM", patience)
	}
}

// TestOfflineParties runs real daemons on loopback, each with its own data
// dir: a relay, a customer and three vendors, all bootstrapping to the
// relay. Store-and-forward and /intentcast/sync/2 must carry a deal across
// parties that are never online together:
//
//  1. the customer goes offline (SIGTERM, or SIGKILL) after publishing;
//     the three vendors offer meanwhile; back, it gets all three offers;
//  2. the winning vendor and one other go offline; the customer accepts
//     and goes offline (SIGKILL); the last vendor goes offline too, so only
//     the relay is up;
//  3. both vendors come back: the winner learns of the accept with the
//     sealed details and holds the customer's deal; the other sees the
//     intent closed and its offer lapsed.
func TestOfflineParties(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs daemon processes")
	}
	bin := buildBinary(t)
	for _, mode := range []string{"SIGTERM", "SIGKILL"} {
		t.Run("customer "+mode, func(t *testing.T) { testOfflineParties(t, bin, mode) })
	}
}

func testOfflineParties(t *testing.T, bin, mode string) {
	root := t.TempDir()
	rdir, cdir := filepath.Join(root, "relay"), filepath.Join(root, "customer")
	vdirs := []string{filepath.Join(root, "vendor1"), filepath.Join(root, "vendor2"), filepath.Join(root, "vendor3")}

	startDaemon(t, bin, rdir)
	raddr := cliJSON[client.NodeInfo](t, bin, rdir, "id").Addrs[0]
	cust := startDaemon(t, bin, cdir, "--bootstrap", raddr)
	vendors := make([]*daemon, len(vdirs))
	for i, vdir := range vdirs {
		vendors[i] = startDaemon(t, bin, vdir, "--bootstrap", raddr)
	}
	awaitGossip(t, bin, cdir, vdirs...)

	in := cliJSON[client.IntentView](t, bin, cdir, "intent", "publish", "--category", "electronics", "--path", "laptops",
		"--text", "laptop for a customer whose node sleeps", "--max-price", "1200", "--currency", "EUR", "--expires-in", "2h")
	for _, vdir := range vdirs {
		eventually(t, patience, filepath.Base(vdir)+" lists the intent", func() bool {
			return slices.ContainsFunc(cliJSON[[]client.IntentView](t, bin, vdir, "vendor", "feed"), func(f client.IntentView) bool { return f.ID == in.ID })
		})
	}

	// 1. The customer is offline while the vendors offer.
	oldAddr := readAddr(t, cdir)
	if mode == "SIGKILL" {
		cust.kill(t)
	} else {
		cust.stop(t)
	}
	sent := make([]client.OfferView, len(vdirs))
	for i, vdir := range vdirs {
		sent[i] = cliJSON[client.OfferView](t, bin, vdir, "vendor", "offer", in.ID[:12], "--price", []string{"1100", "1000", "1150"}[i],
			"--text", "from "+filepath.Base(vdir))
	}
	back := time.Now()
	cust = startDaemonAfter(t, bin, cdir, oldAddr, "--bootstrap", raddr, "--log-level", "debug")
	var got []client.OfferView
	defer func() {
		if t.Failed() {
			t.Logf("customer stderr:\n%s", cust.stderr)
		}
	}()
	eventually(t, patience, "the returning customer gets all three offers", func() bool {
		got = cliJSON[[]client.OfferView](t, bin, cdir, "offers", "list", in.ID[:12])
		return len(got) == len(sent)
	})
	t.Logf("the customer had the %d offers %v after it started again", len(got), time.Since(back).Round(10*time.Millisecond))
	for _, o := range got {
		if o.Status != "valid" || !o.TermsOK {
			t.Errorf("offer %s arrived as %s (terms ok %v), want valid", o.ID[:12], o.Status, o.TermsOK)
		}
	}

	// 2. The winner (vendor2, the cheapest) and vendor3 are offline when
	// the customer accepts; then the customer and vendor1 go too.
	winner, loser := 1, 2
	oldV := []string{readAddr(t, vdirs[winner]), readAddr(t, vdirs[loser])}
	vendors[winner].stop(t)
	vendors[loser].stop(t)
	const details = "Ada Lovelace, pick-up station 7"
	deal := cliJSON[client.DealView](t, bin, cdir, "offers", "accept", in.ID[:12], sent[winner].ID[:12], "--details", details)
	eventually(t, patience, "vendor1 sees the intent closed and its offer lapsed", func() bool {
		offers := cliJSON[[]client.OfferView](t, bin, vdirs[0], "vendor", "offers")
		return len(offers) == 1 && offers[0].Status == "lapsed"
	})
	cust.kill(t)
	vendors[0].stop(t)

	// 3. Only the relay is up. The vendors come back.
	startDaemonAfter(t, bin, vdirs[winner], oldV[0], "--bootstrap", raddr)
	startDaemonAfter(t, bin, vdirs[loser], oldV[1], "--bootstrap", raddr)
	var vdeal client.DealView
	eventually(t, patience, "the winning vendor learns of the accept", func() bool {
		deals := cliJSON[[]client.DealView](t, bin, vdirs[winner], "deals")
		if len(deals) == 1 {
			vdeal = deals[0]
		}
		return len(deals) == 1
	})
	if vdeal.IntentID != deal.IntentID || vdeal.OfferID != deal.OfferID || vdeal.Role != "vendor" || vdeal.Offer.Price != deal.Offer.Price {
		t.Errorf("the vendor's deal %+v does not match the customer's %+v", vdeal, deal)
	}
	if vdeal.Details != details {
		t.Errorf("the vendor's deal shows details %q, want %q", vdeal.Details, details)
	}
	eventually(t, patience, "the other returning vendor sees the intent closed and its offer lapsed", func() bool {
		offers := cliJSON[[]client.OfferView](t, bin, vdirs[loser], "vendor", "offers")
		v := cliJSON[client.IntentView](t, bin, vdirs[loser], "intent", "show", in.ID)
		return len(offers) == 1 && offers[0].Status == "lapsed" && v.State == client.StateAccepted
	})
	if feed := cliJSON[[]client.IntentView](t, bin, vdirs[loser], "vendor", "feed"); slices.ContainsFunc(feed, func(f client.IntentView) bool { return f.ID == in.ID }) {
		t.Error("the closed intent is still in the returning vendor's feed")
	}
}
