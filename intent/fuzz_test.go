package intent

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/intentcast/intentcast/crypto"
)

// Fuzz targets for every decoder. Each checks two things of any input: the
// decoder does not panic, and whatever it accepts has exactly one encoding,
// the one received (so IDs are stable). Signed messages cannot be re-signed,
// so for them the canonical encoding of the decoded body must equal the
// signed payload and the envelope must re-encode to the input. FuzzParse
// also holds ParseOwned to Parse. Seed corpora live in
// testdata/fuzz/<FuzzName>/.

func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := Parse(raw)
		owned, ownedErr := ParseOwned(bytes.Clone(raw))
		if fmt.Sprint(ownedErr) != fmt.Sprint(err) || !sameParse(owned, m) {
			t.Fatalf("ParseOwned disagrees with Parse:\n owned %+v, %v\ncopied %+v, %v", owned, ownedErr, m, err)
		}
		if err != nil {
			if m != nil {
				t.Fatalf("Parse returned %T with error %v", m, err)
			}
			return
		}
		// The dispatcher must agree with the parser of the kind it chose.
		switch v := m.(type) {
		case *SignedIntent:
			checkIntent(t, raw, v)
			if _, err := ParseIntent(raw); err != nil {
				t.Fatalf("Parse accepted an intent ParseIntent refuses: %v", err)
			}
		case *SealedOffer:
			checkSealed(t, raw, v)
			if _, err := ParseSealedOffer(raw); err != nil {
				t.Fatalf("Parse accepted a sealed offer ParseSealedOffer refuses: %v", err)
			}
		case *SignedAccept:
			checkAccept(t, raw, v)
			if _, err := ParseAccept(raw); err != nil {
				t.Fatalf("Parse accepted an accept ParseAccept refuses: %v", err)
			}
		case *SignedCancel:
			checkCancel(t, raw, v)
			if _, err := ParseCancel(raw); err != nil {
				t.Fatalf("Parse accepted a cancel ParseCancel refuses: %v", err)
			}
		default:
			t.Fatalf("Parse returned %T", m)
		}
	})
}

// sameParse reports whether two parses of one input hold the same message.
// An intent's decoded key sits behind an atomic pointer, which DeepEqual
// compares by address: the key's bytes are compared in Body instead.
func sameParse(a, b any) bool {
	ai, aok := a.(*SignedIntent)
	bi, bok := b.(*SignedIntent)
	if aok && bok {
		return bytes.Equal(ai.Raw, bi.Raw) && ai.ID == bi.ID && reflect.DeepEqual(ai.Body, bi.Body) &&
			reflect.DeepEqual(ai.msg, bi.msg) && ai.verified.Load() == bi.verified.Load()
	}
	return reflect.DeepEqual(a, b)
}

func FuzzParseIntent(f *testing.F) {
	f.Fuzz(func(t *testing.T, raw []byte) {
		s, err := ParseIntent(raw)
		if err != nil {
			return
		}
		checkIntent(t, raw, s)
		if m, err := Parse(raw); err != nil {
			t.Fatalf("ParseIntent accepted what Parse refuses: %v", err)
		} else if _, ok := m.(*SignedIntent); !ok {
			t.Fatalf("Parse took an intent for %T", m)
		}
	})
}

func FuzzParseSealedOffer(f *testing.F) {
	f.Fuzz(func(t *testing.T, raw []byte) {
		s, err := ParseSealedOffer(raw)
		if err != nil {
			return
		}
		checkSealed(t, raw, s)
	})
}

func FuzzParseAccept(f *testing.F) {
	f.Fuzz(func(t *testing.T, raw []byte) {
		a, err := ParseAccept(raw)
		if err != nil {
			return
		}
		checkAccept(t, raw, a)
	})
}

func FuzzParseCancel(f *testing.F) {
	f.Fuzz(func(t *testing.T, raw []byte) {
		c, err := ParseCancel(raw)
		if err != nil {
			return
		}
		checkCancel(t, raw, c)
	})
}

// FuzzParseOffer covers the decoder a customer's node runs on what a
// (possibly hostile) vendor sealed to it. ParseOffer returns the offer with
// some errors, as evidence: that offer must be canonical too.
func FuzzParseOffer(f *testing.F) {
	f.Fuzz(func(t *testing.T, raw []byte) {
		o, err := ParseOffer(raw)
		if o == nil {
			return
		}
		msg, perr := crypto.ParseSign1(raw)
		if perr != nil {
			t.Fatalf("ParseOffer returned an offer from a broken envelope: %v", perr)
		}
		if !bytes.Equal(o.Raw, raw) {
			t.Fatal("ParseOffer changed the raw bytes")
		}
		checkCore(t, msg.Payload, o.Body)
		if err == nil {
			if cerr := o.Body.check(); cerr != nil {
				t.Fatalf("accepted an offer that breaks the schema: %v", cerr)
			}
		}
	})
}

func checkIntent(t *testing.T, raw []byte, s *SignedIntent) {
	t.Helper()
	checkSigned(t, raw, s.Raw, s.ID, s.msg.Raw, s.msg.Payload, s.Body)
	if err := s.Body.check(); err != nil {
		t.Fatalf("accepted an intent that breaks the schema: %v", err)
	}
	// Validate must not panic on anything ParseIntent lets through, and
	// must never pass a lifetime over the maximum, however it is encoded.
	if err := s.Validate(s.Body.CreatedAt(), Policy{MinWork: NoWork}); err == nil {
		if life := s.Body.Expires - s.Body.Created; life > int64(MaxLifetime.Seconds()) {
			t.Fatalf("validated an intent living %d s", life)
		}
	}
}

func checkSealed(t *testing.T, raw []byte, s *SealedOffer) {
	t.Helper()
	if !bytes.Equal(s.Raw, raw) {
		t.Fatal("sealed offer: raw bytes differ from the input")
	}
	header := mustMarshal(t, sealedHeader{ContentType: ContentSealedOffer, IntentID: s.IntentID[:]})
	if !bytes.Equal(header, s.protected) {
		t.Fatalf("sealed offer header %x re-encodes to %x", s.protected, header)
	}
	wire := append([]byte{tagEncrypt0}, mustMarshal(t, sealedWire{Protected: s.protected,
		Unprotected: mustMarshal(t, sealedUnprotected{Nonce: s.nonce}), Ciphertext: s.ciphertext})...)
	if !bytes.Equal(wire, raw) {
		t.Fatalf("sealed offer re-encodes to %x, received %x", wire, raw)
	}
	// The offer ID leaves the work nonce out.
	idWire := append([]byte{tagEncrypt0}, mustMarshal(t, sealedIDWire{Protected: s.protected, Ciphertext: s.ciphertext})...)
	if s.ID != IDOf(idWire) {
		t.Fatalf("offer ID %s is not the hash of the offer without its nonce", s.ID)
	}
}

func checkAccept(t *testing.T, raw []byte, a *SignedAccept) {
	t.Helper()
	checkSigned(t, raw, a.Raw, a.ID, a.msg.Raw, a.msg.Payload, a.Body)
	if !bytes.Equal(a.IntentID[:], a.Body.IntentID) || !bytes.Equal(a.OfferID[:], a.Body.OfferID) {
		t.Fatal("accept: decoded IDs differ from the body")
	}
	if err := a.Body.check(); err != nil {
		t.Fatalf("accepted an accept that breaks the schema: %v", err)
	}
}

func checkCancel(t *testing.T, raw []byte, c *SignedCancel) {
	t.Helper()
	checkSigned(t, raw, c.Raw, c.ID, c.msg.Raw, c.msg.Payload, c.Body)
	if !bytes.Equal(c.IntentID[:], c.Body.IntentID) {
		t.Fatal("cancel: decoded intent ID differs from the body")
	}
}

// checkSigned holds for every signed message: raw is kept as received, the
// ID is its hash, the envelope re-encodes to raw, and the body to the
// payload (checkCore).
func checkSigned(t *testing.T, raw, kept []byte, id ID, envelope, payload []byte, body any) {
	t.Helper()
	if !bytes.Equal(kept, raw) || !bytes.Equal(envelope, raw) {
		t.Fatal("raw bytes differ from the input")
	}
	if id != IDOf(raw) {
		t.Fatalf("ID %s is not the hash of the input", id)
	}
	checkCore(t, payload, body)
}

// checkCore: body re-encodes to the signed payload; for a later version,
// to its core, the payload's pairs whose keys version 1 defines, each
// exactly as received.
func checkCore(t *testing.T, payload []byte, body any) {
	t.Helper()
	again := mustMarshal(t, body)
	var sent, core map[uint64]cbor.RawMessage
	if err := decMode.Unmarshal(payload, &sent); err != nil {
		t.Fatalf("the accepted payload does not decode: %v", err)
	}
	if err := decMode.Unmarshal(again, &core); err != nil {
		t.Fatal(err)
	}
	var version uint64
	if err := decMode.Unmarshal(sent[0], &version); err != nil || version == Version {
		if !bytes.Equal(again, payload) {
			t.Fatalf("body re-encodes to %x, the signed payload is %x", again, payload)
		}
		return
	}
	defined := definedKeys(reflect.TypeOf(body))
	for k, v := range sent {
		if defined[k] && !bytes.Equal(core[k], v) {
			t.Fatalf("version %d: key %d re-encodes to %x, the payload holds %x", version, k, []byte(core[k]), []byte(v))
		}
	}
	for k := range core {
		if _, ok := sent[k]; !ok {
			t.Fatalf("version %d: the body has key %d, the payload does not", version, k)
		}
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := marshal(v)
	if err != nil {
		t.Fatalf("marshal %T: %v", v, err)
	}
	return b
}
