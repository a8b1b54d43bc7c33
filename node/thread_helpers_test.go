package node

import (
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/intentcast/intentcast/crypto"
	"github.com/intentcast/intentcast/intent"
)

// The forgery tests make thread messages the intent package refuses to
// make, so they build the wire from docs/PROTOCOL.md ("Negotiation
// threads") as a second implementation would.

// wireEnc is Core Deterministic CBOR, as the wire is encoded.
var wireEnc = func() cbor.EncMode {
	em, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		panic(err)
	}
	return em
}()

func coreDetEncode(v any) ([]byte, error) { return wireEnc.Marshal(v) }

// sealThreadTo seals a signed thread message to pub as a sealed thread
// message of intentID, with the offer work of the test policy.
func sealThreadTo(t *testing.T, pub crypto.PublicReplyKey, intentID intent.ID, signed []byte) *intent.SealedThread {
	t.Helper()
	protected, err := coreDetEncode(map[int]any{3: intent.ContentSealedThread, 4: intentID[:]})
	if err != nil {
		t.Fatal(err)
	}
	info := append([]byte("intentcast/1/thread\x00"), intentID[:]...)
	ct, err := crypto.Seal(pub, info, protected, signed)
	if err != nil {
		t.Fatal(err)
	}
	body, err := coreDetEncode([]any{protected, map[int]any{-65700: make([]byte, intent.NonceSize)}, ct})
	if err != nil {
		t.Fatal(err)
	}
	s, err := intent.ParseSealedThread(append([]byte{0xd0}, body...))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Mint(t.Context(), testPolicy.MinOfferWork); err != nil {
		t.Fatal(err)
	}
	return s
}

// sealForCustomer seals a signed message to the intent's reply key.
func sealForCustomer(t *testing.T, in *intent.SignedIntent, signed []byte) *intent.SealedThread {
	t.Helper()
	return sealThreadTo(t, crypto.PublicReplyKey{Suite: crypto.Suite(in.Body.ReplyKey.Suite), Key: in.Body.ReplyKey.Key}, in.ID, signed)
}

func mustMarshalWire(t *testing.T, v any) []byte {
	t.Helper()
	b, err := coreDetEncode(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
