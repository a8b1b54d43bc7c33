package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/intentcast/intentcast/crypto"
	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node/api/client"
)

// TestDealExportVerify makes a deal between two real daemons, exports its
// record from both sides, verifies it offline, and checks that every
// tampered copy fails with the check that catches it.
func TestDealExportVerify(t *testing.T) {
	cdir, vdir, in, offer := daemonsWithDeal(t)
	files := t.TempDir()
	c := func(args ...string) []string { return append([]string{"--data-dir", cdir}, args...) }
	v := func(args ...string) []string { return append([]string{"--data-dir", vdir}, args...) }

	// Both sides export; the files are the same bytes.
	cfile, vfile := filepath.Join(files, "customer.cbor"), filepath.Join(files, "vendor.cbor")
	r := mustRun(t, c("deal", "export", in.ID[:8], "--out", cfile)...)
	if !strings.Contains(r.stdout, "wrote "+cfile) || !strings.Contains(r.stdout, "999.90 EUR") {
		t.Errorf("export says:\n%s", r.stdout)
	}
	exported := decodeJSON[exportResult](t, mustRun(t, v("--json", "deal", "export", in.ID[:8], "--out", vfile)...))
	if exported.Deal.OfferID != offer.ID || exported.Deal.IntentID != in.ID {
		t.Errorf("vendor export = %+v", exported)
	}
	craw, _ := os.ReadFile(cfile)
	vraw, _ := os.ReadFile(vfile)
	if len(craw) == 0 || !bytes.Equal(craw, vraw) {
		t.Fatalf("customer's record (%d bytes) and vendor's (%d bytes) differ", len(craw), len(vraw))
	}
	if bytes.Contains(craw, []byte("Kiez")) {
		t.Error("the record holds the accept's details in the clear")
	}

	// Verify needs no daemon: the data dir points nowhere.
	nowhere := func(args ...string) []string {
		return append([]string{"--data-dir", filepath.Join(files, "none"), "--api", "127.0.0.1:1"}, args...)
	}
	r = mustRun(t, nowhere("deal", "verify", cfile)...)
	if !strings.Contains(r.stdout, "is a valid deal record") || strings.Contains(r.stdout, "FAILED") || !strings.Contains(r.stdout, "999.90 EUR") {
		t.Errorf("verify says:\n%s", r.stdout)
	}
	ok := decodeJSON[verifyResult](t, mustRun(t, nowhere("--json", "deal", "verify", vfile)...))
	if !ok.Valid || ok.Deal == nil || ok.Deal.OfferID != offer.ID || ok.Deal.Vendor != offer.Vendor.Name ||
		ok.Deal.VendorKey != offer.Vendor.Key || ok.Deal.PriceMinor != 99990 || len(ok.Checks) != len(intent.DealChecks) {
		t.Errorf("verify --json = %+v", ok)
	}

	// Exports do not clobber, except with --force; unknown deals are not found.
	if r := run(t, c("deal", "export", in.ID, "--out", cfile)...); r.code != ExitFailure || !strings.Contains(r.err.Error(), "--force") {
		t.Errorf("export over an existing file: exit %d (%v)", r.code, r.err)
	}
	mustRun(t, c("deal", "export", in.ID, "--out", cfile, "--force")...)
	if r := run(t, c("deal", "export", "00000000", "--out", filepath.Join(files, "x.cbor"))...); r.code != ExitNotFound {
		t.Errorf("export of an unknown deal: exit %d (%v), want %d", r.code, r.err, ExitNotFound)
	}
	if r := run(t, c("deal", "export", strings.Repeat("0", 64), "--out", filepath.Join(files, "x.cbor"))...); r.code != ExitNotFound {
		t.Errorf("export of an unknown full ID: exit %d (%v), want %d", r.code, r.err, ExitNotFound)
	}

	// Tampered copies each fail, naming the check.
	parts := decodeRecord(t, craw)
	rec, err := intent.VerifyDealRecord(craw, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	rival, err := crypto.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	_, rivalOffer, err := intent.NewOffer(rec.Intent, rival, intent.OfferDraft{
		Price: 50000, Vendor: intent.Vendor{Name: "Rival"}, Created: time.Now(), ValidUntil: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	flipLast := func(b []byte) []byte { b = bytes.Clone(b); b[len(b)-1] ^= 1; return b }
	tampered := []struct {
		name  string
		file  []byte
		check intent.DealCheck
	}{
		{"truncated", craw[:len(craw)-10], intent.CheckRecord},
		{"not a record", []byte("just some text\n"), intent.CheckRecord},
		{"intent signature", parts.with(t, 1, flipLast(parts[1])), intent.CheckIntentSignature},
		{"offer signature", parts.with(t, 2, flipLast(parts[2])), intent.CheckOfferSignature},
		{"accept signature", parts.with(t, 3, flipLast(parts[3])), intent.CheckAcceptSignature},
		{"another vendor's offer", parts.with(t, 2, rivalOffer.Raw), intent.CheckAcceptOffer},
		{"the offer where the accept goes", parts.with(t, 3, parts[2]), intent.CheckAccept},
	}
	for _, tc := range tampered {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(files, strings.ReplaceAll(tc.name, " ", "-")+".cbor")
			if err := os.WriteFile(path, tc.file, 0o644); err != nil {
				t.Fatal(err)
			}
			r := run(t, nowhere("deal", "verify", path)...)
			if r.code != ExitFailure || r.err == nil || !strings.Contains(r.err.Error(), "check "+string(tc.check)+" failed") {
				t.Fatalf("verify: exit %d (%v), want 1 naming check %s", r.code, r.err, tc.check)
			}
			if !strings.Contains(r.stdout, string(tc.check)+"  ") || !strings.Contains(r.stdout, "FAILED") || strings.Contains(r.stdout, "valid deal record") {
				t.Errorf("verify table does not mark %s failed:\n%s", tc.check, r.stdout)
			}
			res := decodeJSON[verifyResult](t, run(t, nowhere("--json", "deal", "verify", path)...))
			if res.Valid || res.Failed != string(tc.check) || res.Deal != nil {
				t.Errorf("verify --json = %+v", res)
			}
		})
	}

	if r := run(t, nowhere("deal", "verify", filepath.Join(files, "missing.cbor"))...); r.code != ExitFailure || !strings.Contains(r.err.Error(), "missing.cbor") {
		t.Errorf("verify of a missing file: exit %d (%v)", r.code, r.err)
	}
	if r := run(t, nowhere("deal", "verify")...); r.code != ExitUsage || !strings.Contains(r.err.Error(), "FILE") {
		t.Errorf("verify without a file: exit %d (%v)", r.code, r.err)
	}
}

// recordParts are a deal record's map entries, keyed as in the file.
type recordParts map[uint64][]byte

func decodeRecord(t *testing.T, raw []byte) recordParts {
	t.Helper()
	var m map[uint64]cbor.RawMessage
	if err := cbor.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	p := recordParts{}
	for k, v := range m {
		if k == 0 {
			continue
		}
		var b []byte
		if err := cbor.Unmarshal(v, &b); err != nil {
			t.Fatal(err)
		}
		p[k] = b
	}
	return p
}

// with re-encodes the record canonically with part key replaced by b: a
// well-formed record whose parts no longer fit.
func (p recordParts) with(t *testing.T, key uint64, b []byte) []byte {
	t.Helper()
	m := map[uint64]any{0: uint64(intent.Version)}
	for k, v := range p {
		m[k] = v
	}
	m[key] = b
	em, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := em.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// daemonsWithDeal starts a customer's and a vendor's daemon, connected,
// and makes a deal between them through the CLI: an intent, the vendor's
// offer of 999.90 EUR, the customer's accept.
func daemonsWithDeal(t *testing.T) (cdir, vdir string, in client.IntentView, offer client.OfferView) {
	t.Helper()
	cdir, vdir, in, offer = daemonsWithOffer(t)
	c := func(args ...string) []string { return append([]string{"--data-dir", cdir}, args...) }
	v := func(args ...string) []string { return append([]string{"--data-dir", vdir}, args...) }
	mustRun(t, c("offers", "accept", in.ID, offer.ID, "--details", "ship to: Kiez 1")...)
	eventually(t, 20*time.Second, "the vendor records the deal", func() bool {
		return len(decodeJSON[[]client.DealView](t, mustRun(t, v("--json", "deals")...))) == 1
	})
	return cdir, vdir, in, offer
}

// daemonsWithOffer starts a customer's and a vendor's daemon, connected,
// and through the CLI has the customer publish an intent (electronics,
// up to 1200 EUR) and the vendor offer 999.90 EUR, which the customer
// holds.
func daemonsWithOffer(t *testing.T) (cdir, vdir string, in client.IntentView, offer client.OfferView) {
	t.Helper()
	cdir, vdir = t.TempDir(), t.TempDir()
	startDaemon(t, cdir)
	c := func(args ...string) []string { return append([]string{"--data-dir", cdir}, args...) }
	v := func(args ...string) []string { return append([]string{"--data-dir", vdir}, args...) }
	info := decodeJSON[client.NodeInfo](t, mustRun(t, c("--json", "id")...))
	if len(info.Addrs) == 0 {
		t.Fatalf("customer has no addresses: %+v", info)
	}
	startDaemon(t, vdir, "--bootstrap", info.Addrs[0])
	eventually(t, 20*time.Second, "the vendor connects to the customer", func() bool {
		return len(decodeJSON[[]client.PeerInfo](t, mustRun(t, v("peers", "--json")...))) > 0
	})

	in = decodeJSON[client.IntentView](t, mustRun(t, c("--json", "intent", "publish", "--category", "electronics",
		"--text", "14-inch laptop", "--max-price", "1200", "--currency", "EUR")...))
	eventually(t, 20*time.Second, "the vendor's feed lists the intent", func() bool {
		return strings.Contains(mustRun(t, v("vendor", "feed")...).stdout, short(in.ID))
	})
	offer = decodeJSON[client.OfferView](t, mustRun(t, v("--json", "vendor", "offer", in.ID, "--price", "999.90", "--text", "ThinkPad")...))
	eventually(t, 20*time.Second, "the customer has the offer", func() bool {
		return len(decodeJSON[[]client.OfferView](t, mustRun(t, c("--json", "offers", "list", in.ID)...))) == 1
	})
	return cdir, vdir, in, offer
}
