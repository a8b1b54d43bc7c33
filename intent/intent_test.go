package intent

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/intentcast/intentcast/crypto"
)

func TestIntentRoundTrip(t *testing.T) {
	s, keys := newTestIntent(t, nil)
	if err := s.Validate(t0, testPolicy); err != nil {
		t.Fatalf("fresh intent does not validate: %v", err)
	}
	again, err := ParseIntent(s.Raw)
	if err != nil {
		t.Fatalf("ParseIntent: %v", err)
	}
	if again.ID != IDOf(s.Raw) || again.ID != s.ID {
		t.Fatalf("ID is not SHA-256 of the wire bytes")
	}
	if again.Body.Text != testDraft().Text || again.Body.Want.MaxPrice != 120000 {
		t.Fatalf("body did not survive: %+v", again.Body)
	}
	if !bytes.Equal(again.Body.SigningKey, keys.Signing.Public()) {
		t.Fatalf("intent does not carry its signing key")
	}
	if !CheckWork(again.msg.Payload, 8) {
		t.Fatalf("minted intent lacks its work")
	}
}

func TestIntentKeysAreFreshPerIntent(t *testing.T) {
	a, _ := newTestIntent(t, nil)
	b, _ := newTestIntent(t, nil)
	if bytes.Equal(a.Body.SigningKey, b.Body.SigningKey) || bytes.Equal(a.Body.ReplyKey.Key, b.Body.ReplyKey.Key) {
		t.Fatal("two intents share a key: they could be linked")
	}
}

func TestIntentHybridSuite(t *testing.T) {
	s, _ := newTestIntent(t, func(d *Draft) { d.Suite = crypto.SuiteXWing })
	if crypto.Suite(s.Body.ReplyKey.Suite) != crypto.SuiteXWing {
		t.Fatalf("suite = %#x, want X-Wing", s.Body.ReplyKey.Suite)
	}
	if err := s.Validate(t0, testPolicy); err != nil {
		t.Fatal(err)
	}
}

// TestIntentRules has one case per bad input: each body is well signed and
// carries its work, so only the rule under test can fail.
func TestIntentRules(t *testing.T) {
	base, keys := newTestIntent(t, nil)
	cases := []struct {
		name   string
		mutate func(*Intent)
		want   error
	}{
		{"version", func(b *Intent) { b.Version = 2 }, ErrVersion},
		{"version 0", func(b *Intent) { b.Version = 0 }, ErrSchema},
		{"signing key of small order", func(b *Intent) { b.SigningKey = append([]byte{1}, make([]byte, 31)...) }, ErrBadKey},
		{"reply key of small order", func(b *Intent) { b.ReplyKey.Key = make([]byte, 32) }, ErrBadKey},
		{"category not on roster", func(b *Intent) { b.Category = "weapons" }, ErrSchema},
		{"path too deep", func(b *Intent) { b.Path = []string{"a", "b", "c", "d", "e"} }, ErrSchema},
		{"path segment upper case", func(b *Intent) { b.Path = []string{"Laptops"} }, ErrSchema},
		{"path segment empty", func(b *Intent) { b.Path = []string{""} }, ErrSchema},
		{"path segment too long", func(b *Intent) { b.Path = []string{strings.Repeat("a", MaxPathSegment+1)} }, ErrSchema},
		{"text too long", func(b *Intent) { b.Text = strings.Repeat("ü", MaxText/2+1) }, ErrSchema},
		{"quantity zero", func(b *Intent) { b.Want.Quantity = 0 }, ErrSchema},
		{"quantity too big", func(b *Intent) { b.Want.Quantity = MaxQuantity + 1 }, ErrSchema},
		{"price too big", func(b *Intent) { b.Want.MaxPrice = MaxPrice + 1 }, ErrSchema},
		{"currency lower case", func(b *Intent) { b.Want.Currency = "eur" }, ErrSchema},
		{"currency length", func(b *Intent) { b.Want.Currency = "EURO" }, ErrSchema},
		{"region malformed", func(b *Intent) { b.Want.Region = "Germany" }, ErrSchema},
		{"region subdivision malformed", func(b *Intent) { b.Want.Region = "US_CA" }, ErrSchema},
		{"deliver-by before created", func(b *Intent) { b.Want.DeliverBy = b.Created - 1 }, ErrSchema},
		{"term not on roster", func(b *Intent) { b.Terms.IDs = []TermID{1, 99} }, ErrSchema},
		{"terms not ascending", func(b *Intent) { b.Terms.IDs = []TermID{2, 1} }, ErrSchema},
		{"terms duplicated", func(b *Intent) { b.Terms.IDs = []TermID{1, 1} }, ErrSchema},
		{"too many custom terms", func(b *Intent) {
			b.Terms.Custom = map[string]string{}
			for i := range MaxCustomTerms + 1 {
				b.Terms.Custom[string(rune('a'+i))] = "x"
			}
		}, ErrSchema},
		{"custom term value too long", func(b *Intent) { b.Terms.Custom = map[string]string{"k": strings.Repeat("v", MaxCustomValue+1)} }, ErrSchema},
		{"expires before created", func(b *Intent) { b.Expires = b.Created }, ErrSchema},
		{"signing key short", func(b *Intent) { b.SigningKey = b.SigningKey[:31] }, ErrSchema},
		{"reply key unknown suite", func(b *Intent) { b.ReplyKey.Suite = 0x99 }, ErrSchema},
		{"reply key short", func(b *Intent) { b.ReplyKey.Key = b.ReplyKey.Key[:31] }, ErrSchema},
		{"work over maximum", func(b *Intent) { b.Work = MaxWork + 1; b.Nonce = make([]byte, NonceSize+1) }, ErrSchema},
		{"nonce short", func(b *Intent) { b.Nonce = make([]byte, NonceSize-1) }, ErrSchema},
		{"lifetime over maximum", func(b *Intent) { b.Expires = b.Created + int64(MaxLifetime/time.Second) + 1 }, ErrLifetime},
		{"work below topic minimum", func(b *Intent) { b.Work = 2 }, ErrInsufficientWork},
		{"expired", func(b *Intent) {
			b.Created = t0.Add(-2 * time.Hour).Unix()
			b.Expires = t0.Add(-time.Hour).Unix()
			b.Want.DeliverBy = 0
		}, ErrExpired},
		{"from the future", func(b *Intent) { b.Created = t0.Add(time.Hour).Unix(); b.Want.DeliverBy = 0 }, ErrFromFuture},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := base.Body
			body.Terms = Terms{IDs: append([]TermID(nil), body.Terms.IDs...)}
			c.mutate(&body)
			raw := resign(t, body, keys.Signing)
			err := parseAndValidate(raw, t0, testPolicy)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			if got, want := Ignorable(err), Ignorable(c.want); got != want {
				t.Fatalf("Ignorable = %v, want %v", got, want)
			}
		})
	}
}

var errTampered = errors.New("tampered")

func parseAndValidate(raw []byte, now time.Time, p Policy) error {
	s, err := ParseIntent(raw)
	if err != nil {
		return err
	}
	return s.Validate(now, p)
}

func TestIntentWireTampering(t *testing.T) {
	s, keys := newTestIntent(t, nil)
	other, _ := crypto.GenerateSigningKey()
	cases := []struct {
		name string
		raw  func() []byte
		want error
	}{
		{"too large", func() []byte { return append(bytes.Clone(s.Raw), make([]byte, MaxIntentSize)...) }, ErrTooLarge},
		{"trailing byte", func() []byte { return append(bytes.Clone(s.Raw), 0) }, ErrMalformed},
		{"truncated", func() []byte { return s.Raw[:len(s.Raw)-1] }, ErrMalformed},
		{"not CBOR", func() []byte { return []byte("hello, gossip") }, ErrMalformed},
		{"wrong content type", func() []byte { return signPayload(t, s.msg.Payload, keys.Signing, ContentCancel) }, ErrMalformed},
		{"signed by another key", func() []byte { return signPayload(t, s.msg.Payload, other, ContentIntent) }, ErrBadSignature},
		{"payload bit flipped", func() []byte {
			raw := bytes.Clone(s.Raw)
			i := bytes.Index(raw, []byte("Leichter"))
			raw[i] ^= 0x20
			return raw
		}, errTampered},
		{"non-canonical payload (non-minimal int)", func() []byte {
			p := bytes.Clone(s.msg.Payload)
			// Key 0 (version 1) encoded as 0x00 0x01; re-encode value 1 as 0x18 0x01.
			p = append([]byte{p[0], 0x00, 0x18, 0x01}, p[3:]...)
			return signPayload(t, p, keys.Signing, ContentIntent)
		}, ErrNonCanonical},
		{"unknown field", func() []byte {
			type extra struct {
				Intent
				X uint `cbor:"12,keyasint"`
			}
			b, _ := marshal(extra{Intent: s.Body, X: 1})
			return signPayload(t, b, keys.Signing, ContentIntent)
		}, ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := parseAndValidate(c.raw(), t0, testPolicy)
			if c.want == errTampered {
				// A changed payload fails the work check, or, once in 2^8
				// tries, passes it by chance and fails the signature.
				if !errors.Is(err, ErrInsufficientWork) && !errors.Is(err, ErrBadSignature) {
					t.Fatalf("got %v, want ErrInsufficientWork or ErrBadSignature", err)
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			if Ignorable(err) {
				t.Fatalf("tampering must be Reject, got Ignore: %v", err)
			}
		})
	}
}

func TestIntentClockSkew(t *testing.T) {
	s, _ := newTestIntent(t, nil)
	for _, c := range []struct {
		name string
		now  time.Time
		want error
	}{
		{"receiver clock 2m behind", t0.Add(-2 * time.Minute), nil},
		{"receiver clock 4m59s behind", t0.Add(-DefaultSkew + time.Second), nil},
		{"receiver clock 6m behind", t0.Add(-6 * time.Minute), ErrFromFuture},
		{"within lifetime", t0.Add(6 * 24 * time.Hour), nil},
		{"just inside expiry skew", s.Body.ExpiresAt().Add(DefaultSkew - time.Second), nil},
		{"past expiry skew", s.Body.ExpiresAt().Add(DefaultSkew), ErrExpired},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := s.Validate(c.now, testPolicy)
			if !errors.Is(err, c.want) || (c.want == nil && err != nil) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestPolicyWork(t *testing.T) {
	s, _ := newTestIntent(t, nil) // 8 bits
	for _, c := range []struct {
		name string
		p    Policy
		want error
	}{
		{"network minimum met", Policy{MinWork: 8}, nil},
		{"network minimum missed", Policy{MinWork: 9}, ErrInsufficientWork},
		{"topic override met", Policy{MinWork: 30, TopicWork: map[string]int{"electronics": 6}}, nil},
		{"topic override missed", Policy{MinWork: 2, TopicWork: map[string]int{"electronics": 12}}, ErrInsufficientWork},
		{"default is DefaultWork", Policy{}, ErrInsufficientWork},
		{"no work network", Policy{MinWork: NoWork}, nil},
		{"local stricter: ignore", Policy{MinWork: 4, LocalWork: 10}, ErrBelowLocal},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := s.Validate(t0, c.p)
			if !errors.Is(err, c.want) || (c.want == nil && err != nil) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestNewIntentRefusesBadDrafts(t *testing.T) {
	for _, c := range []struct {
		name   string
		mutate func(*Draft)
		want   error
	}{
		{"bad category", func(d *Draft) { d.Category = "nope" }, ErrSchema},
		{"lifetime", func(d *Draft) { d.Expires = d.Created.Add(MaxLifetime + time.Hour) }, ErrLifetime},
		{"work too high", func(d *Draft) { d.Work = MaxWork + 1 }, ErrSchema},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := testDraft()
			c.mutate(&d)
			if _, _, err := NewIntent(context.Background(), d, nil); !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestNewIntentMintCancels(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d := testDraft()
	d.Work = 32 // far beyond what the first progress step can find
	_, _, err := NewIntent(ctx, d, nil)
	if !errors.Is(err, ErrMintCancelled) || !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want ErrMintCancelled wrapping context.Canceled", err)
	}
}

// TestNewIntentIsVerified: NewIntent's intent carries its signature as
// verified (it was made just now, with the key the body names), so a
// node's check of its own intent verifies none; the same bytes parsed
// anew are verified as any peer's.
func TestNewIntentIsVerified(t *testing.T) {
	s, _ := newTestIntent(t, nil)
	if s.key.Load() != nil {
		t.Fatal("NewIntent's intent holds its decoded signing key, which only an unverified intent needs")
	}
	spoiled := bytes.Clone(s.msg.Signature)
	spoiled[0] ^= 1
	s.msg.Signature = spoiled
	if err := s.Validate(t0, testPolicy); err != nil {
		t.Fatalf("Validate of NewIntent's intent: %v, want the signature taken as verified", err)
	}
	fresh, err := ParseIntent(s.Raw)
	if err != nil {
		t.Fatal(err)
	}
	fresh.msg.Signature = spoiled
	if err := fresh.Validate(t0, testPolicy); !errors.Is(err, crypto.ErrBadSignature) {
		t.Fatalf("a fresh parse of NewIntent's bytes with a bad signature: %v, want ErrBadSignature", err)
	}
}

// TestValidateVerifiesOnce: a parsed intent that passed Validate does not
// verify its signature again (a node checks its own intent before sending
// it and its router checks it again), but every other check still runs, and
// a fresh parse of the same bytes verifies anew.
func TestValidateVerifiesOnce(t *testing.T) {
	s, _ := newTestIntent(t, nil)
	in, err := ParseIntent(s.Raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := in.Validate(t0, testPolicy); err != nil {
		t.Fatal(err)
	}
	// Spoil the signature the parsed message holds: a second Validate
	// that verified again would fail.
	in.msg.Signature = bytes.Clone(in.msg.Signature)
	in.msg.Signature[0] ^= 1
	if err := in.Validate(t0, testPolicy); err != nil {
		t.Fatalf("second Validate of a verified intent: %v, want the signature taken as verified", err)
	}
	if err := in.Validate(t0.Add(MaxLifetime+time.Hour), testPolicy); !errors.Is(err, ErrExpired) {
		t.Fatalf("second Validate after expiry: %v, want ErrExpired: only the signature is remembered", err)
	}
	if in.key.Load() != nil {
		t.Fatal("the decoded signing key is still held after the signature was verified")
	}
	spoiled := &SignedIntent{Raw: in.Raw, ID: in.ID, Body: in.Body, msg: in.msg}
	if err := spoiled.Validate(t0, testPolicy); !errors.Is(err, crypto.ErrBadSignature) {
		t.Fatalf("a message not yet verified with a bad signature: %v, want ErrBadSignature", err)
	}
}
