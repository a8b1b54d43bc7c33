package intent

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"testing"
	"time"
)

func TestLeadingZeros(t *testing.T) {
	hash := func(prefix ...byte) [32]byte {
		var h [32]byte
		for i := range h {
			h[i] = 0xff
		}
		copy(h[:], prefix)
		return h
	}
	for _, c := range []struct {
		name string
		h    [32]byte
		want int
	}{
		{"all zero", [32]byte{}, 256},
		{"top bit set", hash(0x80), 0},
		{"one zero bit", hash(0x40), 1},
		{"one zero byte", hash(0x00, 0xff), 8},
		{"15 bits", hash(0x00, 0x01), 15},
		{"first word zero", hash(0, 0, 0, 0, 0, 0, 0, 0, 0x40), 65},
		{"into the third word", hash(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01), 135},
		{"last bit only", func() [32]byte { var h [32]byte; h[31] = 1; return h }(), 255},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := leadingZeros(c.h); got != c.want {
				t.Fatalf("leadingZeros(%x) = %d, want %d", c.h, got, c.want)
			}
		})
	}
}

// TestWorkHashDomain pins the hash to the spec: SHA-256 over the domain
// string and the payload (docs/PROTOCOL.md, "Proof of work").
func TestWorkHashDomain(t *testing.T) {
	const want = "4ec3994ac9a42d1b4e5fece4ffec1b7110517ab220d83825062abbda84a8e453" // SHA-256("intentcast/1/pow\x00abc")
	if h := workHash([]byte("abc")); hex.EncodeToString(h[:]) != want {
		t.Fatalf("workHash(abc) = %x, want %s", h, want)
	}
}

func TestCheckWork(t *testing.T) {
	payloads := [][]byte{{}, []byte("abc"), bytes.Repeat([]byte{0xa5}, 300)}
	for _, p := range payloads {
		if !CheckWork(p, 0) {
			t.Fatalf("0 bits must always pass (payload %x)", p)
		}
		// The exact work a hash carries passes; one bit more does not.
		n := leadingZeros(workHash(p))
		if !CheckWork(p, n) || CheckWork(p, n+1) {
			t.Fatalf("payload %x has %d bits: CheckWork(%d)=%v CheckWork(%d)=%v",
				p, n, n, CheckWork(p, n), n+1, CheckWork(p, n+1))
		}
	}
}

// mintPayload is a fixed payload with room for the nonce, so that every
// search below is deterministic.
func mintPayload() []byte {
	return append([]byte("intentcast pow test payload"), make([]byte, NonceSize)...)
}

func TestMint(t *testing.T) {
	for _, bits := range []int{0, 1, 8, 12} {
		p := mintPayload()
		prefix := bytes.Clone(p[:len(p)-NonceSize])
		if err := Mint(context.Background(), p, bits, nil); err != nil {
			t.Fatalf("%d bits: %v", bits, err)
		}
		if !CheckWork(p, bits) {
			t.Fatalf("%d bits: minted payload does not verify", bits)
		}
		if !bytes.Equal(p[:len(p)-NonceSize], prefix) {
			t.Fatalf("%d bits: Mint wrote outside the nonce", bits)
		}
		// Mint counts up from nonce 0 and stops at the first hit, so every
		// smaller nonce must fail: a changed nonce, checked without luck.
		found := binary.BigEndian.Uint64(p[len(p)-NonceSize:])
		for n := range found {
			binary.BigEndian.PutUint64(p[len(p)-NonceSize:], n)
			if CheckWork(p, bits) {
				t.Fatalf("%d bits: nonce %d also works, Mint returned %d", bits, n, found)
			}
		}
	}
}

func TestMintRefuses(t *testing.T) {
	for _, c := range []struct {
		name    string
		payload []byte
		bits    int
	}{
		{"payload shorter than a nonce", make([]byte, NonceSize-1), 0},
		{"empty payload", nil, 0},
		{"work over MaxWork", make([]byte, NonceSize), MaxWork + 1},
		{"negative work", make([]byte, NonceSize), -1},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := Mint(context.Background(), c.payload, c.bits, nil); err == nil {
				t.Fatal("Mint accepted it")
			}
		})
	}
}

func TestMintProgress(t *testing.T) {
	p := mintPayload()
	var calls []uint64
	// 16 bits takes 2^16 tries on average: several progress steps.
	if err := Mint(context.Background(), p, 16, func(n uint64) { calls = append(calls, n) }); err != nil {
		t.Fatal(err)
	}
	nonce := binary.BigEndian.Uint64(p[len(p)-NonceSize:])
	if len(calls) < 2 {
		t.Fatalf("progress calls %v: the fixture must need more than one step", calls)
	}
	if calls[len(calls)-1] != nonce+1 {
		t.Fatalf("final progress %v, want the %d tries it took", calls, nonce+1)
	}
	for i, n := range calls[:len(calls)-1] {
		if n != uint64(i+1)*progressEvery {
			t.Fatalf("progress call %d reported %d tries, want %d", i, n, uint64(i+1)*progressEvery)
		}
	}
	if want := int(nonce/progressEvery) + 1; len(calls) != want {
		t.Fatalf("%d progress calls for %d tries, want %d", len(calls), nonce+1, want)
	}
}

func TestMintCancel(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Unix(1, 0))
	defer cancel2()
	for _, c := range []struct {
		name string
		ctx  context.Context
		want error
	}{
		{"cancelled", cancelled, context.Canceled},
		{"deadline passed", expired, context.DeadlineExceeded},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := Mint(c.ctx, mintPayload(), MaxWork, nil)
			if !errors.Is(err, ErrMintCancelled) || !errors.Is(err, c.want) {
				t.Fatalf("got %v, want ErrMintCancelled wrapping %v", err, c.want)
			}
		})
	}
}

// TestMintCancelPrompt cancels from the first progress report: Mint must
// stop at the next check, not search on.
func TestMintCancelPrompt(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var calls []uint64
	err := Mint(ctx, mintPayload(), MaxWork, func(n uint64) {
		calls = append(calls, n)
		cancel()
	})
	if !errors.Is(err, ErrMintCancelled) || !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want ErrMintCancelled wrapping context.Canceled", err)
	}
	if len(calls) != 1 || calls[0] != progressEvery {
		t.Fatalf("progress calls %v, want exactly one at %d", calls, progressEvery)
	}
}
