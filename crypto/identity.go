package crypto

import (
	"encoding/pem"
	"fmt"
	"strconv"
)

const (
	// pemTypeReplyKey holds a ReplyKey's serialized private key.
	pemTypeReplyKey = "INTENTCAST HPKE PRIVATE KEY"
	// pemHeaderSuite names the reply key's suite, e.g. "Suite: 0x0020".
	pemHeaderSuite = "Suite"
)

// Identity is a vendor's long-term identity: the key that signs its offers,
// and the key the accepts of its offers are sealed to.
type Identity struct {
	Signing SigningKey
	Reply   ReplyKey
}

// GenerateIdentity returns a fresh identity with an X25519 reply key.
func GenerateIdentity() (Identity, error) {
	signing, err := GenerateSigningKey()
	if err != nil {
		return Identity{}, fmt.Errorf("generate identity: %w", err)
	}
	reply, err := GenerateReplyKey(SuiteX25519)
	if err != nil {
		return Identity{}, fmt.Errorf("generate identity: %w", err)
	}
	return Identity{Signing: signing, Reply: reply}, nil
}

// WriteIdentityFile writes id to path as two PEM blocks, "PRIVATE KEY"
// (PKCS#8 Ed25519) then "INTENTCAST HPKE PRIVATE KEY" with a Suite header,
// atomically and with mode 0600, replacing any file already there.
func WriteIdentityFile(path string, id Identity) error {
	signing, err := signingKeyBlock(id.Signing)
	if err != nil {
		return fmt.Errorf("write identity file %s: %w", path, err)
	}
	if id.Reply.IsZero() {
		return fmt.Errorf("write identity file %s: the reply key is the zero key", path)
	}
	reply := &pem.Block{
		Type:    pemTypeReplyKey,
		Headers: map[string]string{pemHeaderSuite: fmt.Sprintf("0x%04x", uint16(id.Reply.Suite()))},
		Bytes:   id.Reply.Bytes(),
	}
	return writeKeyFile(path, append(pem.EncodeToMemory(signing), pem.EncodeToMemory(reply)...))
}

// ReadIdentityFile reads an identity written by WriteIdentityFile. It refuses
// a file that group or others can access, and anything but the two expected
// blocks; such errors wrap ErrKeyFile.
func ReadIdentityFile(path string) (Identity, error) {
	data, err := readKeyFile(path)
	if err != nil {
		return Identity{}, err
	}
	blocks, err := decodePEM(data)
	if err != nil {
		return Identity{}, fmt.Errorf("read identity file %s: %w", path, err)
	}
	if err := checkBlockTypes(blocks, pemTypeSigningKey, pemTypeReplyKey); err != nil {
		return Identity{}, fmt.Errorf("read identity file %s: %w", path, err)
	}
	signing, err := signingKeyFromBlock(blocks[0])
	if err != nil {
		return Identity{}, fmt.Errorf("read identity file %s: %w", path, err)
	}
	reply, err := replyKeyFromBlock(blocks[1])
	if err != nil {
		return Identity{}, fmt.Errorf("read identity file %s: %w", path, err)
	}
	return Identity{Signing: signing, Reply: reply}, nil
}

// replyKeyFromBlock decodes the reply key block of an identity file.
func replyKeyFromBlock(block *pem.Block) (ReplyKey, error) {
	value, ok := block.Headers[pemHeaderSuite]
	if !ok || len(block.Headers) != 1 {
		return ReplyKey{}, fmt.Errorf("%q block has headers %v, want only %s: %w",
			block.Type, block.Headers, pemHeaderSuite, ErrKeyFile)
	}
	// Only the exact form the writer uses, e.g. 0x0020, is accepted.
	n, err := strconv.ParseUint(value, 0, 16)
	if err != nil || fmt.Sprintf("0x%04x", n) != value {
		return ReplyKey{}, fmt.Errorf("%q block has %s header %q, want a 4-digit hex KEM ID such as 0x%04x: %w",
			block.Type, pemHeaderSuite, value, uint16(SuiteX25519), ErrKeyFile)
	}
	s := Suite(n)
	if !s.Valid() {
		return ReplyKey{}, fmt.Errorf("%q block has %s header %s: %w: %w", block.Type, pemHeaderSuite, value, ErrKeyFile, ErrUnknownSuite)
	}
	return ReplyKeyFromBytes(s, block.Bytes)
}
