package intent_test

import (
	"bytes"
	"crypto/ecdh"
	"crypto/hpke"
	"crypto/mlkem"
	"crypto/mlkem/mlkemtest"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/fxamacker/cbor/v2"
	"github.com/intentcast/intentcast/crypto"
	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/intent/internal/vectors"
)

// The vectors in testdata/vectors.json (and docs/PROTOCOL.md) are what
// other implementations test against, so these tests check them with the
// real code and check that they cannot drift from it.

func loadVectors(t *testing.T) *vectors.Set {
	t.Helper()
	b, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var set vectors.Set
	if err := json.Unmarshal(b, &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Vectors) == 0 {
		t.Fatal("no vectors")
	}
	return &set
}

func replyKey(t *testing.T, suite uint16, private []byte) crypto.ReplyKey {
	t.Helper()
	k, err := crypto.ReplyKeyFromBytes(crypto.Suite(suite), private)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestVectorVerdicts reaches every vector's verdict the way a node does:
// Parse, then Validate (or OpenOffer for a sealed offer) at the set's time
// and policy.
func TestVectorVerdicts(t *testing.T) {
	set := loadVectors(t)
	replies := intentReplies(t, set)
	intents := map[string]*intent.SignedIntent{}
	for _, v := range set.Vectors {
		if v.Kind == vectors.KindIntent && v.Verdict == vectors.Valid {
			s, err := intent.ParseIntent(v.Wire)
			if err != nil {
				t.Fatalf("%s: %v", v.Name, err)
			}
			intents[v.Name] = s
		}
	}
	for _, v := range set.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			if got := intent.IDOf(v.Wire).String(); got != v.ID {
				t.Fatalf("id %s, the vector says %s", got, v.ID)
			}
			in := intents[v.Intent]
			var reply crypto.ReplyKey
			if in != nil {
				reply = replies[crypto.Suite(in.Body.ReplyKey.Suite)]
			}
			assertVerdict(t, v, verdict(v, in, reply, set))
		})
	}
}

// assertVerdict checks that err is the verdict and error code v names.
func assertVerdict(t *testing.T, v vectors.Vec, err error) {
	t.Helper()
	switch v.Verdict {
	case vectors.Valid:
		if err != nil {
			t.Fatalf("valid vector refused: %v", err)
		}
	case vectors.Reject, vectors.Ignore:
		want, ok := vectors.Codes[v.Error]
		if !ok {
			t.Fatalf("unknown error code %q", v.Error)
		}
		if !errors.Is(err, want) {
			t.Fatalf("got %v, want %s (%v)", err, v.Error, want)
		}
		if intent.Ignorable(err) != (v.Verdict == vectors.Ignore) {
			t.Fatalf("%v is classed Ignorable=%v, the vector says %s", err, intent.Ignorable(err), v.Verdict)
		}
	default:
		t.Fatalf("unknown verdict %q", v.Verdict)
	}
}

func verdict(v vectors.Vec, in *intent.SignedIntent, reply crypto.ReplyKey, set *vectors.Set) error {
	m, err := intent.Parse(v.Wire)
	if err != nil {
		return err
	}
	category, offers, ok := intent.ParseTopic(v.Topic)
	if !ok {
		return fmt.Errorf("vector's topic %q is not an intentcast topic", v.Topic)
	}
	if err := intent.CheckTopic(m, category, offers); err != nil {
		return err
	}
	if v.Kind != vectors.KindIntent && in == nil {
		return fmt.Errorf("vector names no valid intent (%q)", v.Intent)
	}
	if v.Kind != vectors.KindIntent && in.Body.Category != category {
		// The node's rule for a message naming a known intent.
		return fmt.Errorf("%w: names an intent of category %s", intent.ErrWrongTopic, in.Body.Category)
	}
	switch m := m.(type) {
	case *intent.SignedIntent:
		if v.Kind == vectors.KindIntent {
			return m.Validate(set.Time(), set.Policy())
		}
	case *intent.SignedAccept:
		if v.Kind == vectors.KindAccept {
			return m.Validate(in, set.Time(), set.Policy())
		}
	case *intent.SignedCancel:
		if v.Kind == vectors.KindCancel {
			return m.Validate(in, set.Time(), set.Policy())
		}
	case *intent.SealedOffer:
		if v.Kind == vectors.KindOffer {
			if err := m.CheckWork(set.Policy()); err != nil {
				return err
			}
			_, err := intent.OpenOffer(m, in, reply, set.Time())
			return err
		}
	}
	return fmt.Errorf("a %s vector parsed as %T", v.Kind, m)
}

// intentReplies are the vectors' intent reply private keys by suite.
func intentReplies(t *testing.T, set *vectors.Set) map[crypto.Suite]crypto.ReplyKey {
	t.Helper()
	return map[crypto.Suite]crypto.ReplyKey{
		crypto.Suite(set.Keys.IntentReplySuite): replyKey(t, set.Keys.IntentReplySuite, set.Keys.IntentReplyPrivate),
		crypto.SuiteXWing:                       replyKey(t, uint16(crypto.SuiteXWing), set.Keys.IntentReplyXWingSeed),
	}
}

// TestVectorOpenedContents checks what the frozen sealed parts open to.
func TestVectorOpenedContents(t *testing.T) {
	set := loadVectors(t)
	in, err := intent.ParseIntent(set.Vector("intent").Wire)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := intent.ParseSealedOffer(set.Vector("sealed-offer").Wire)
	if err != nil {
		t.Fatal(err)
	}
	o, err := intent.OpenOffer(sealed, in, replyKey(t, set.Keys.IntentReplySuite, set.Keys.IntentReplyPrivate), set.Time())
	if err != nil {
		t.Fatal(err)
	}
	want := set.Offer
	b := o.Body
	got := vectors.Opened{
		Inner: o.Raw, IntentID: b.IntentID, TermsHash: b.TermsHash, Price: b.Price, Currency: b.Currency,
		Text: b.Text, Created: b.Created, ValidUntil: b.ValidUntil, VendorName: b.Vendor.Name, VendorURL: b.Vendor.URL,
	}
	gj, _ := json.Marshal(got)
	wj, _ := json.Marshal(want)
	if !bytes.Equal(gj, wj) {
		t.Fatalf("the sealed offer opens to\n%s\nthe vectors say\n%s", gj, wj)
	}
	if th := in.TermsHash(); !bytes.Equal(b.TermsHash, th[:]) || !bytes.Equal(b.VendorKey, set.Keys.VendorSigningPublic) {
		t.Fatal("the offer does not commit to the intent's terms or is not the vendor's")
	}

	acc, err := intent.ParseAccept(set.Vector("accept").Wire)
	if err != nil {
		t.Fatal(err)
	}
	if acc.OfferID != sealed.ID {
		t.Fatal("the accept does not name the sealed offer")
	}
	d, err := acc.OpenDetails(replyKey(t, set.Keys.VendorReplySuite, set.Keys.VendorReplyPrivate))
	if err != nil || string(d) != set.Details {
		t.Fatalf("accept details open to %q (%v), want %q", d, err, set.Details)
	}
}

// TestVectorsReproducible regenerates the set: every vector must come out
// byte for byte as stored. The frozen (sealed) parts are reused by Generate
// only because they open to exactly what it builds, so this also proves
// they still match the deterministic parts.
func TestVectorsReproducible(t *testing.T) {
	stored := loadVectors(t)
	fresh, err := vectors.Generate()
	if err != nil {
		t.Fatal(err)
	}
	if fresh.Resealed {
		t.Fatal("frozen.json no longer opens to the generated offer: run go run ./intent/internal/vectors/cmd/genvectors")
	}
	if len(fresh.Vectors) != len(stored.Vectors) {
		t.Fatalf("%d vectors generated, %d stored", len(fresh.Vectors), len(stored.Vectors))
	}
	for i, v := range fresh.Vectors {
		if s := stored.Vectors[i]; s.Name != v.Name || !bytes.Equal(s.Wire, v.Wire) {
			t.Errorf("vector %d: generated %s differs from stored %s", i, v.Name, s.Name)
		}
	}
	js, err := fresh.JSON()
	if err != nil {
		t.Fatal(err)
	}
	file, _ := os.ReadFile("testdata/vectors.json")
	if !bytes.Equal(js, file) {
		t.Fatal("testdata/vectors.json is stale: run go run ./intent/internal/vectors/cmd/genvectors")
	}
}

// TestVectorsInProtocolDoc keeps every generated part of docs/PROTOCOL.md
// (the vectors section, and the deal record, rating and thread vectors)
// equal to what genvectors renders.
func TestVectorsInProtocolDoc(t *testing.T) {
	doc, err := os.ReadFile("../docs/PROTOCOL.md")
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := vectors.Generate()
	if err != nil {
		t.Fatal(err)
	}
	parts, err := fresh.Parts()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range parts {
		got, err := p.Held(doc)
		if err != nil {
			t.Fatal(err)
		}
		if got != p.Text {
			t.Errorf("docs/PROTOCOL.md's %s is stale: run go run ./intent/internal/vectors/cmd/genvectors", p.Name)
		}
	}
}

// TestVectorSeals checks the sealed offers sealed with fixed randomness from
// what vectors.json lists alone, with the standard library's HPKE rather
// than the generator's: the listed randomness gives the encapsulated key,
// the ciphertext opens under the listed private key to exactly the listed
// signed offer, and the real code opens it to the same bytes. Since the AEAD
// is deterministic once the key schedule is fixed by the encapsulation,
// sealing the plaintext again from these inputs gives these bytes;
// TestVectorsReproducible does that with the generator's own HPKE.
func TestVectorSeals(t *testing.T) {
	set := loadVectors(t)
	replies := intentReplies(t, set)
	n := 0
	for _, v := range set.Vectors {
		if v.Seal == nil {
			continue
		}
		n++
		t.Run(v.Name, func(t *testing.T) {
			in, err := intent.ParseIntent(set.Vector(v.Intent).Wire)
			if err != nil {
				t.Fatal(err)
			}
			seal := v.Seal
			var w struct {
				_           struct{} `cbor:",toarray"`
				Protected   []byte
				Unprotected cbor.RawMessage
				Ciphertext  []byte
			}
			if err := cbor.Unmarshal(v.Wire[1:], &w); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(w.Protected, seal.AAD) || !bytes.HasPrefix(w.Ciphertext, seal.Enc) {
				t.Fatal("the listed aad or enc is not the wire's")
			}
			if want := append([]byte("intentcast/1/offer\x00"), in.ID[:]...); !bytes.Equal(seal.Info, want) {
				t.Fatalf("info %x, want %x", seal.Info, want)
			}

			pkR := in.Body.ReplyKey.Key
			switch suite := crypto.Suite(in.Body.ReplyKey.Suite); suite {
			case crypto.SuiteX25519:
				skE, err := hpke.DHKEM(ecdh.X25519()).DeriveKeyPair(seal.IKME)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := skE.Bytes()
				if !bytes.Equal(b, seal.SKE) || !bytes.Equal(skE.PublicKey().Bytes(), seal.Enc) {
					t.Fatal("DeriveKeyPair(ikm_e) does not give the listed sk_e and enc")
				}
			case crypto.SuiteXWing:
				if len(seal.IKME) != 64 {
					t.Fatalf("X-Wing eseed of %d bytes", len(seal.IKME))
				}
				ek, err := mlkem.NewEncapsulationKey768(pkR[:mlkem.EncapsulationKeySize768])
				if err != nil {
					t.Fatal(err)
				}
				_, ctM, err := mlkemtest.Encapsulate768(ek, seal.IKME[:32])
				if err != nil {
					t.Fatal(err)
				}
				ekX, err := ecdh.X25519().NewPrivateKey(seal.IKME[32:])
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(append(ctM, ekX.PublicKey().Bytes()...), seal.Enc) {
					t.Fatal("EncapsulateDerand(pk, eseed) does not give the listed enc")
				}
			default:
				t.Fatalf("suite %s", suite)
			}

			priv := replies[crypto.Suite(in.Body.ReplyKey.Suite)].Bytes()
			kem, err := hpke.NewKEM(in.Body.ReplyKey.Suite)
			if err != nil {
				t.Fatal(err)
			}
			skR, err := kem.NewPrivateKey(priv)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(skR.PublicKey().Bytes(), pkR) {
				t.Fatal("the listed private key is not the intent's reply key")
			}
			r, err := hpke.NewRecipient(seal.Enc, skR, hpke.HKDFSHA256(), hpke.ChaCha20Poly1305(), seal.Info)
			if err != nil {
				t.Fatal(err)
			}
			pt, err := r.Open(seal.AAD, w.Ciphertext[len(seal.Enc):])
			if err != nil || !bytes.Equal(pt, seal.Plaintext) {
				t.Fatalf("opens to %x (%v), the vector lists %x", pt, err, []byte(seal.Plaintext))
			}

			s, err := intent.ParseSealedOffer(v.Wire)
			if err != nil {
				t.Fatal(err)
			}
			o, err := intent.OpenOffer(s, in, replies[crypto.Suite(in.Body.ReplyKey.Suite)], set.Time())
			if o == nil || !bytes.Equal(o.Raw, seal.Plaintext) {
				t.Fatalf("the real code opens it to %v (%v)", o, err)
			}
			if v.Verdict == vectors.Valid && !bytes.Equal(o.Body.VendorKey, set.Keys.VendorSigningPublic) {
				t.Fatal("a valid vector's offer is not the vendor's")
			}
		})
	}
	if n < 2 {
		t.Fatalf("%d sealed offers with fixed randomness, want one per suite at least", n)
	}
}

// TestWrongTopicVectors: every way a message can be on the wrong topic
// (docs/PROTOCOL.md, Validation: a kind of the other topic, an intent of
// another category, a cancel, offer or accept naming a known intent of
// another category) has a Reject wrong-topic vector.
func TestWrongTopicVectors(t *testing.T) {
	set := loadVectors(t)
	intents := map[string]string{} // valid intent vector -> its category
	for _, v := range set.Vectors {
		if v.Kind == vectors.KindIntent && v.Verdict == vectors.Valid {
			in, err := intent.ParseIntent(v.Wire)
			if err != nil {
				t.Fatal(err)
			}
			intents[v.Name] = in.Body.Category
		}
	}
	got := map[string]bool{}
	for _, v := range set.Vectors {
		if v.Error != "wrong-topic" {
			continue
		}
		if v.Verdict != vectors.Reject {
			t.Errorf("%s: wrong-topic is Reject, the vector says %s", v.Name, v.Verdict)
		}
		category, offers, ok := intent.ParseTopic(v.Topic)
		if !ok {
			t.Fatalf("%s: topic %q", v.Name, v.Topic)
		}
		onOffers := v.Kind == vectors.KindOffer || v.Kind == vectors.KindAccept
		switch {
		case onOffers != offers:
			got[v.Kind+" on the other topic"] = true
		case v.Kind == vectors.KindIntent:
			got["intent of another category"] = true
		case intents[v.Intent] != "" && intents[v.Intent] != category:
			got[v.Kind+" naming a known intent of another category"] = true
		}
	}
	for _, want := range []string{
		"intent of another category",
		vectors.KindCancel + " on the other topic",
		vectors.KindOffer + " on the other topic",
		vectors.KindCancel + " naming a known intent of another category",
		vectors.KindOffer + " naming a known intent of another category",
		vectors.KindAccept + " naming a known intent of another category",
	} {
		if !got[want] {
			t.Errorf("no wrong-topic vector for: %s", want)
		}
	}
}

// TestVectorNoncesCountFromZero checks what the vectors text says of work
// nonces: each valid intent, sealed offer and sealed thread message holds
// the first nonce, counting up from 0, that reaches its work, so minting
// it again from a zero nonce gives the same bytes.
func TestVectorNoncesCountFromZero(t *testing.T) {
	set := loadVectors(t)
	ctx := t.Context()
	type sealedVec struct {
		name   string
		wire   []byte
		thread bool
	}
	var sealed []sealedVec
	n := 0
	for _, v := range set.Vectors {
		if v.Verdict != vectors.Valid {
			continue
		}
		switch v.Kind {
		case vectors.KindIntent:
			in, err := intent.ParseIntent(v.Wire)
			if err != nil {
				t.Fatal(err)
			}
			msg, err := crypto.ParseSign1(v.Wire)
			if err != nil {
				t.Fatal(err)
			}
			p := bytes.Clone(msg.Payload)
			clear(p[len(p)-intent.NonceSize:])
			if err := intent.Mint(ctx, p, int(in.Body.Work), nil); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(p, msg.Payload) {
				t.Errorf("%s: nonce %x, minting from 0 gives %x", v.Name, msg.Payload[len(p)-intent.NonceSize:], p[len(p)-intent.NonceSize:])
			}
			n++
		case vectors.KindOffer:
			sealed = append(sealed, sealedVec{v.Name, v.Wire, false})
		}
	}
	for _, v := range set.Threads {
		if v.Sealed && v.Error == "" {
			sealed = append(sealed, sealedVec{v.Name, v.Wire, true})
		}
	}
	for _, v := range sealed {
		// Both envelopes mint their header nonce the same way.
		var raw []byte
		if v.thread {
			s, err := intent.ParseSealedThread(bytes.Clone(v.wire))
			if err == nil {
				err = s.Mint(ctx, set.MinOfferWork)
			}
			if err != nil {
				t.Fatal(err)
			}
			raw = s.Raw
		} else {
			s, err := intent.ParseSealedOffer(bytes.Clone(v.wire))
			if err == nil {
				err = s.Mint(ctx, set.MinOfferWork)
			}
			if err != nil {
				t.Fatal(err)
			}
			raw = s.Raw
		}
		if !bytes.Equal(raw, v.wire) {
			t.Errorf("%s: minting from 0 gives other bytes", v.name)
		}
		n++
	}
	if n < 5 {
		t.Fatalf("checked %d nonces: the vectors changed shape", n)
	}
}
