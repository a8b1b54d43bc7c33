package intent

import (
	"context"
	"testing"
	"time"

	"github.com/intentcast/intentcast/crypto"
)

// t0 is the fixed "now" of the tests: the package reads no clock.
var t0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

// testPolicy asks for little work so tests mint instantly, while still
// exercising the check.
var testPolicy = Policy{MinWork: 4}

func testDraft() Draft {
	return Draft{
		Category: "electronics",
		Path:     []string{"laptops", "ultrabook"},
		Text:     "Leichter Laptop, 14 Zoll, 16 GB — ноутбук — 軽いノートパソコン",
		Want:     Want{Quantity: 1, MaxPrice: 120000, Currency: "EUR", Region: "DE", DeliverBy: t0.Add(14 * 24 * time.Hour).Unix()},
		Terms:    DefaultTerms(),
		Created:  t0,
		Expires:  t0.Add(7 * 24 * time.Hour),
		Work:     8,
	}
}

func newTestIntent(t testing.TB, mutate func(*Draft)) (*SignedIntent, Keys) {
	t.Helper()
	d := testDraft()
	if mutate != nil {
		mutate(&d)
	}
	s, k, err := NewIntent(context.Background(), d, nil)
	if err != nil {
		t.Fatalf("NewIntent: %v", err)
	}
	return s, k
}

// resign encodes body as given (bypassing NewIntent's checks), mints work
// and signs it with key: a message that is well signed but may break any
// other rule.
func resign(t testing.TB, body Intent, key crypto.SigningKey) []byte {
	t.Helper()
	payload, err := marshal(body)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	if len(body.Nonce) == NonceSize {
		if err := Mint(context.Background(), payload, int(body.Work), nil); err != nil {
			t.Fatalf("mint: %v", err)
		}
	}
	return signPayload(t, payload, key, ContentIntent)
}

func signPayload(t testing.TB, payload []byte, key crypto.SigningKey, ct string) []byte {
	t.Helper()
	raw, err := crypto.Sign1(key, ct, payload)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return raw
}

func testVendor(t testing.TB) crypto.Identity {
	t.Helper()
	id, err := crypto.GenerateIdentity()
	if err != nil {
		t.Fatalf("identity: %v", err)
	}
	return id
}

func testOfferDraft() OfferDraft {
	return OfferDraft{
		Price:      99900,
		Text:       "ThinkPad X1, 16 GB, ships tomorrow",
		Vendor:     Vendor{Name: "Laptop Laden", URL: "https://laptops.example"},
		Created:    t0.Add(time.Minute),
		ValidUntil: t0.Add(48 * time.Hour),
	}
}
