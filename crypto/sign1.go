package crypto

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"strings"

	"github.com/veraison/go-cose"
)

// Sign1 signs payload with k and returns a COSE_Sign1_Tagged message in the
// package's canonical wire form (see ParseSign1). contentType names what the
// payload is; as a protected header it is signed, so a signature over one
// kind of message can never pass for another.
func Sign1(k SigningKey, contentType string, payload []byte) ([]byte, error) {
	if k.IsZero() {
		return nil, fmt.Errorf("sign COSE_Sign1 %q message: the signing key is the zero key", contentType)
	}
	if err := checkContentType(contentType); err != nil {
		return nil, fmt.Errorf("sign COSE_Sign1 message: %w", err)
	}
	if len(payload) == 0 {
		// ParseSign1 refuses an empty payload; never produce what we refuse.
		return nil, fmt.Errorf("sign COSE_Sign1 %q message: payload is empty: %w", contentType, ErrMalformed)
	}
	protected, err := encodeProtected(contentType)
	if err != nil {
		return nil, err
	}
	headers, err := coseHeaders(protected, contentType)
	if err != nil {
		return nil, err
	}
	signer, err := cose.NewSigner(cose.AlgorithmEdDSA, k.priv)
	if err != nil {
		return nil, fmt.Errorf("sign COSE_Sign1 %q message: make EdDSA signer: %w", contentType, err)
	}
	msg := cose.Sign1Message{Headers: headers, Payload: payload}
	if err := msg.Sign(rand.Reader, nil, signer); err != nil {
		return nil, fmt.Errorf("sign COSE_Sign1 %q message: %w", contentType, err)
	}
	// Encode ourselves rather than with msg.MarshalCBOR, so that what Sign1
	// writes is by construction what ParseSign1 re-encodes and accepts.
	return encodeSign1(protected, payload, msg.Signature)
}

// Verify checks m's signature under pub. It verifies the protected header
// and payload bytes exactly as received, never a re-encoding of them. A key
// that CheckSigningKey refuses verifies nothing: the error wraps both
// ErrBadKey and ErrBadSignature.
func (m *Sign1Message) Verify(pub ed25519.PublicKey) error {
	k, err := ParseVerifyingKey(pub)
	if err != nil {
		return fmt.Errorf("verify COSE_Sign1 %q message: %w: %w", m.ContentType, ErrBadSignature, err)
	}
	return m.VerifyWith(&k)
}

// VerifyWith is Verify under a key already checked and decoded by
// ParseVerifyingKey. A zero VerifyingKey verifies nothing.
func (m *Sign1Message) VerifyWith(k *VerifyingKey) error {
	if !k.ok {
		return fmt.Errorf("verify COSE_Sign1 %q message: %w: no key (a zero VerifyingKey)", m.ContentType, ErrBadSignature)
	}
	if !k.verify(m) {
		return fmt.Errorf("verify COSE_Sign1 %q message with key %x: %w", m.ContentType, k.pub[:], ErrBadSignature)
	}
	return nil
}

// coseHeaders returns go-cose headers whose raw bytes are exactly the ones on
// the wire, so the signature covers them. The decoded Protected map is set
// too because go-cose checks the algorithm there, not in the raw bytes.
func coseHeaders(protected []byte, contentType string) (cose.Headers, error) {
	raw, err := wrapBstr(protected)
	if err != nil {
		return cose.Headers{}, err
	}
	return cose.Headers{
		RawProtected: raw,
		Protected: cose.ProtectedHeader{
			cose.HeaderLabelAlgorithm:   cose.AlgorithmEdDSA,
			cose.HeaderLabelContentType: contentType,
		},
		RawUnprotected: emptyMap,
	}, nil
}

// checkContentType accepts what ParseSign1 accepts: a media type name,
// type/subtype without parameters, each part a restricted-name of RFC 6838
// section 4.2. RFC 9052 gives text content types that meaning, and other COSE
// implementations (go-cose among them) refuse messages without it.
func checkContentType(contentType string) error {
	typ, subtype, ok := strings.Cut(contentType, "/")
	if !ok || !isRestrictedName(typ) || !isRestrictedName(subtype) {
		return fmt.Errorf("content type %q is not a media type of the form type/subtype (RFC 6838): %w",
			contentType, ErrMalformed)
	}
	return nil
}

// isRestrictedName reports whether s is an RFC 6838 restricted-name: 1 to 127
// characters, a letter or digit first, then letters, digits and !#$&-^_.+
func isRestrictedName(s string) bool {
	if len(s) == 0 || len(s) > 127 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		if !alnum && (i == 0 || !strings.ContainsRune("!#$&-^_.+", rune(c))) {
			return false
		}
	}
	return true
}
