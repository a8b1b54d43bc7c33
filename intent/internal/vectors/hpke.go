package vectors

import (
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/mlkem"
	"crypto/mlkem/mlkemtest"
	"crypto/sha256"
	"crypto/sha3"
	"encoding/binary"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/intentcast/intentcast/crypto"
)

// This file seals with HPKE (RFC 9180, base mode, single shot) from given
// ephemeral randomness, written from the RFC, draft-connolly-cfrg-xwing-kem
// and docs/PROTOCOL.md alone, apart from the crypto package: a vector sealed
// here that the real code opens shows that the text is enough to reproduce a
// seal byte for byte. The ephemeral input follows the test-vector convention
// of RFC 9180 and draft-ietf-hpke-pq ("ikmE"): for DHKEM(X25519) it goes
// through DeriveKeyPair; for X-Wing it is the 64-byte eseed of
// EncapsulateDerand, the ML-KEM-768 randomness m followed by the X25519
// ephemeral private key.

const (
	kdfHKDFSHA256        = 0x0001
	aeadChaCha20Poly1305 = 0x0003
	xwingPublicSize      = mlkem.EncapsulationKeySize768 + 32
)

// xwingLabel is X-Wing's combiner label, the 6 ASCII bytes \./ /^\.
const xwingLabel = "\\./" + "/^\\"

// sealDerand returns enc and the AEAD ciphertext of pt sealed to the public
// key pkR of suite, with ikmE as the encapsulation's randomness.
func sealDerand(suite crypto.Suite, pkR, ikmE, info, aad, pt []byte) (enc, ct []byte, err error) {
	var ss []byte
	switch suite {
	case crypto.SuiteX25519:
		ss, enc, err = encapX25519(pkR, ikmE)
	case crypto.SuiteXWing:
		ss, enc, err = encapXWing(pkR, ikmE)
	default:
		err = fmt.Errorf("suite %s", suite)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("seal with fixed randomness: %w", err)
	}
	hpkeSuite := binary.BigEndian.AppendUint16([]byte("HPKE"), uint16(suite))
	hpkeSuite = binary.BigEndian.AppendUint16(hpkeSuite, kdfHKDFSHA256)
	hpkeSuite = binary.BigEndian.AppendUint16(hpkeSuite, aeadChaCha20Poly1305)
	// KeySchedule, mode base (0x00), psk and psk_id empty.
	pskIDHash := labeledExtract(hpkeSuite, nil, "psk_id_hash", nil)
	infoHash := labeledExtract(hpkeSuite, nil, "info_hash", info)
	context := append(append([]byte{0x00}, pskIDHash...), infoHash...)
	secret := labeledExtract(hpkeSuite, ss, "secret", nil)
	key := labeledExpand(hpkeSuite, secret, "key", context, chacha20poly1305.KeySize)
	nonce := labeledExpand(hpkeSuite, secret, "base_nonce", context, chacha20poly1305.NonceSize)
	aead, err := chacha20poly1305.New(key)
	if err != nil {
		return nil, nil, fmt.Errorf("seal with fixed randomness: %w", err)
	}
	// The first message of a context uses base_nonce XOR seq 0.
	return enc, aead.Seal(nil, nonce, pt, aad), nil
}

// derivedX25519 is DeriveKeyPair(ikm) of DHKEM(X25519) (RFC 9180 section
// 7.1.3): the private key in SerializePrivateKey form, which RFC 9180
// section 7.1.2 clamps as RFC 7748 does (X25519 clamps its scalar anyway,
// so the clamped and unclamped forms are the same key).
func derivedX25519(ikm []byte) []byte {
	kemSuite := binary.BigEndian.AppendUint16([]byte("KEM"), uint16(crypto.SuiteX25519))
	prk := labeledExtract(kemSuite, nil, "dkp_prk", ikm)
	sk := labeledExpand(kemSuite, prk, "sk", nil, 32)
	sk[0] &= 248
	sk[31] = sk[31]&127 | 64
	return sk
}

// encapX25519 is DHKEM(X25519)'s Encap with skE = DeriveKeyPair(ikmE).
func encapX25519(pkR, ikmE []byte) (ss, enc []byte, err error) {
	skE, err := ecdh.X25519().NewPrivateKey(derivedX25519(ikmE))
	if err != nil {
		return nil, nil, err
	}
	pub, err := ecdh.X25519().NewPublicKey(pkR)
	if err != nil {
		return nil, nil, err
	}
	dh, err := skE.ECDH(pub)
	if err != nil {
		return nil, nil, err
	}
	enc = skE.PublicKey().Bytes()
	kemSuite := binary.BigEndian.AppendUint16([]byte("KEM"), uint16(crypto.SuiteX25519))
	prk := labeledExtract(kemSuite, nil, "eae_prk", dh)
	return labeledExpand(kemSuite, prk, "shared_secret", append(enc, pkR...), 32), enc, nil
}

// encapXWing is X-Wing's EncapsulateDerand(pk, eseed).
func encapXWing(pk, eseed []byte) (ss, enc []byte, err error) {
	if len(pk) != xwingPublicSize || len(eseed) != 64 {
		return nil, nil, fmt.Errorf("X-Wing: %d-byte key, %d-byte eseed", len(pk), len(eseed))
	}
	pkM, pkX := pk[:mlkem.EncapsulationKeySize768], pk[mlkem.EncapsulationKeySize768:]
	ek, err := mlkem.NewEncapsulationKey768(pkM)
	if err != nil {
		return nil, nil, err
	}
	ssM, ctM, err := mlkemtest.Encapsulate768(ek, eseed[:32])
	if err != nil {
		return nil, nil, err
	}
	ekX, err := ecdh.X25519().NewPrivateKey(eseed[32:])
	if err != nil {
		return nil, nil, err
	}
	pubX, err := ecdh.X25519().NewPublicKey(pkX)
	if err != nil {
		return nil, nil, err
	}
	ssX, err := ekX.ECDH(pubX)
	if err != nil {
		return nil, nil, err
	}
	ctX := ekX.PublicKey().Bytes()
	h := sha3.New256()
	for _, b := range [][]byte{ssM, ssX, ctX, pkX, []byte(xwingLabel)} {
		h.Write(b)
	}
	return h.Sum(nil), append(ctM, ctX...), nil
}

// labeledExtract and labeledExpand are RFC 9180 section 4's, over
// HKDF-SHA256.
func labeledExtract(suite, salt []byte, label string, ikm []byte) []byte {
	in := append(append(append([]byte("HPKE-v1"), suite...), label...), ikm...)
	prk, err := hkdf.Extract(sha256.New, in, salt)
	if err != nil {
		panic(err) // HKDF-Extract cannot fail
	}
	return prk
}

func labeledExpand(suite, prk []byte, label string, info []byte, n int) []byte {
	in := binary.BigEndian.AppendUint16(nil, uint16(n))
	in = append(append(append(append(in, "HPKE-v1"...), suite...), label...), info...)
	out, err := hkdf.Expand(sha256.New, prk, string(in), n)
	if err != nil {
		panic(err) // n is at most 32, far below HKDF-SHA256's limit
	}
	return out
}
