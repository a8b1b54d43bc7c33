package intent

import (
	"context"
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
)

// Proof of work is hashcash over a message's payload:
//
//	SHA-256("intentcast/1/pow\x00" || payload) has at least `bits` leading zero bits
//
// where the payload commits to `bits` and ends with the 8-byte nonce (the
// nonce has the highest map key, so canonical encoding puts it last). That
// layout lets Mint hash the fixed prefix once and only the last block per
// try, and lets a verifier check the work with one hash before it spends an
// Ed25519 verification.
const powDomain = "intentcast/1/pow\x00"

// DefaultWork is the default minimum work of an intent, in leading zero bits:
// about a second of one core to mint on the reference machine (2^24 hashes
// at ~14.5 M hashes/s), under a microsecond to verify (docs/BENCHMARKS.md
// has the measurement).
const DefaultWork = 24

// workHash returns the proof-of-work hash of payload.
func workHash(payload []byte) [32]byte { return domainHash(powDomain, payload) }

// domainHash is SHA-256(domain || b...).
func domainHash(domain string, b ...[]byte) [32]byte {
	h := sha256.New()
	h.Write([]byte(domain))
	for _, p := range b {
		h.Write(p)
	}
	return [32]byte(h.Sum(nil))
}

// leadingZeros counts the leading zero bits of h.
func leadingZeros(h [32]byte) int {
	n := 0
	for i := 0; i < len(h); i += 8 {
		w := binary.BigEndian.Uint64(h[i:])
		n += bits.LeadingZeros64(w)
		if w != 0 {
			break
		}
	}
	return n
}

// CheckWork reports whether payload carries at least want bits of work.
func CheckWork(payload []byte, want int) bool {
	return leadingZeros(workHash(payload)) >= want
}

// ErrMintCancelled reports that minting stopped because ctx ended.
var ErrMintCancelled = errors.New("proof-of-work minting cancelled")

// Progress receives the number of hashes tried so far. The expected total is
// 2^bits; callers show tries/2^bits as an estimate.
type Progress func(tries uint64)

// progressEvery is how many tries pass between ctx checks and progress
// reports: a few milliseconds of work, so cancellation is prompt and the
// reports cost nothing measurable.
const progressEvery = 1 << 14

// Mint searches for a nonce that gives payload `want` bits of work, writing
// it into the last NonceSize bytes of payload in place. It checks ctx and
// reports progress every few milliseconds.
func Mint(ctx context.Context, payload []byte, want int, progress Progress) error {
	return mint(ctx, powDomain, payload, want, progress)
}

// mint is Mint under any domain: it searches for a nonce in the last
// NonceSize bytes of buf that gives SHA-256(domain || buf) want leading
// zero bits.
func mint(ctx context.Context, domain string, buf []byte, want int, progress Progress) error {
	if len(buf) < NonceSize {
		return fmt.Errorf("mint: payload of %d bytes has no room for a nonce", len(buf))
	}
	if want < 0 || want > MaxWork {
		return fmt.Errorf("mint: work of %d bits is outside 0..%d", want, MaxWork)
	}
	// Hash the fixed prefix once; every try restores that state and hashes
	// only the nonce (no allocation per try).
	h := sha256.New()
	h.Write([]byte(domain))
	h.Write(buf[:len(buf)-NonceSize])
	mid, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return fmt.Errorf("mint: save hash state: %w", err)
	}
	restore := h.(encoding.BinaryUnmarshaler)
	nonce := buf[len(buf)-NonceSize:]
	var sum [32]byte
	for tries := uint64(0); ; tries++ {
		if tries%progressEvery == 0 && tries > 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("%w after %d tries: %w", ErrMintCancelled, tries, err)
			}
			if progress != nil {
				progress(tries)
			}
		}
		binary.BigEndian.PutUint64(nonce, tries)
		if err := restore.UnmarshalBinary(mid); err != nil {
			return fmt.Errorf("mint: restore hash state: %w", err)
		}
		h.Write(nonce)
		if leadingZeros([32]byte(h.Sum(sum[:0]))) >= want {
			if progress != nil {
				progress(tries + 1)
			}
			return nil
		}
	}
}
