package crypto_test

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/intentcast/intentcast/crypto"
)

func ExampleSign1() {
	// A fixed seed keeps the output stable; real code calls
	// GenerateSigningKey.
	key, err := crypto.SigningKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		panic(err)
	}
	msg, err := crypto.Sign1(key, "application/vnd.intentcast.intent", []byte("want: a road bike"))
	if err != nil {
		panic(err)
	}

	// A receiver parses strictly, then verifies with the key it expects.
	m, err := crypto.ParseSign1(msg)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s: %s\n", m.ContentType, m.Payload)
	fmt.Println("verifies:", m.Verify(key.Public()) == nil)

	stranger, err := crypto.GenerateSigningKey()
	if err != nil {
		panic(err)
	}
	fmt.Println("verifies under another key:", !errors.Is(m.Verify(stranger.Public()), crypto.ErrBadSignature))
	fmt.Printf("%d bytes; all but the signature:\n%x\n", len(msg), msg[:len(msg)-64])
	// Output:
	// application/vnd.intentcast.intent: want: a road bike
	// verifies: true
	// verifies under another key: false
	// 128 bytes; all but the signature:
	// d2845827a201270378216170706c69636174696f6e2f766e642e696e74656e74636173742e696e74656e74a05177616e743a206120726f61642062696b655840
}

func ExampleSeal() {
	// The customer makes a reply key per intent and publishes its public half.
	replyKey, err := crypto.GenerateReplyKey(crypto.SuiteX25519)
	if err != nil {
		panic(err)
	}
	intentID := []byte("sha-256 of the signed intent")

	// A vendor seals an offer to it, binding the intent ID as HPKE info so
	// the offer cannot be replayed against another intent.
	sealed, err := crypto.Seal(replyKey.Public(), intentID, nil, []byte("offer: 280 EUR"))
	if err != nil {
		panic(err)
	}

	offer, err := crypto.Open(replyKey, intentID, nil, sealed)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s (%d bytes sealed)\n", offer, len(sealed))

	_, err = crypto.Open(replyKey, []byte("another intent"), nil, sealed)
	fmt.Println("opens for another intent:", !errors.Is(err, crypto.ErrOpen))
	// Output:
	// offer: 280 EUR (62 bytes sealed)
	// opens for another intent: false
}
