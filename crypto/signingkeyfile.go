package crypto

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"fmt"
)

// pemTypeSigningKey is the standard PKCS#8 PEM type, so that tools such as
// openssl can read a signing key file.
const pemTypeSigningKey = "PRIVATE KEY"

// WriteSigningKeyFile writes k to path as a PEM "PRIVATE KEY" (PKCS#8) block,
// atomically and with mode 0600, replacing any file already there.
func WriteSigningKeyFile(path string, k SigningKey) error {
	block, err := signingKeyBlock(k)
	if err != nil {
		return fmt.Errorf("write signing key file %s: %w", path, err)
	}
	return writeKeyFile(path, pem.EncodeToMemory(block))
}

// ReadSigningKeyFile reads a key written by WriteSigningKeyFile. It refuses a
// file that group or others can access, and anything but exactly one PKCS#8
// Ed25519 "PRIVATE KEY" block; such errors wrap ErrKeyFile.
func ReadSigningKeyFile(path string) (SigningKey, error) {
	data, err := readKeyFile(path)
	if err != nil {
		return SigningKey{}, err
	}
	blocks, err := decodePEM(data)
	if err != nil {
		return SigningKey{}, fmt.Errorf("read signing key file %s: %w", path, err)
	}
	if err := checkBlockTypes(blocks, pemTypeSigningKey); err != nil {
		return SigningKey{}, fmt.Errorf("read signing key file %s: %w", path, err)
	}
	k, err := signingKeyFromBlock(blocks[0])
	if err != nil {
		return SigningKey{}, fmt.Errorf("read signing key file %s: %w", path, err)
	}
	return k, nil
}

// signingKeyBlock encodes k as a PKCS#8 PEM block.
func signingKeyBlock(k SigningKey) (*pem.Block, error) {
	if k.IsZero() {
		return nil, fmt.Errorf("the signing key is the zero key")
	}
	der, err := x509.MarshalPKCS8PrivateKey(k.priv)
	if err != nil {
		return nil, fmt.Errorf("encode Ed25519 key as PKCS#8: %w", err)
	}
	return &pem.Block{Type: pemTypeSigningKey, Bytes: der}, nil
}

// signingKeyFromBlock decodes a block made by signingKeyBlock.
func signingKeyFromBlock(block *pem.Block) (SigningKey, error) {
	if len(block.Headers) != 0 {
		return SigningKey{}, fmt.Errorf("%q block has headers, want none: %w", block.Type, ErrKeyFile)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return SigningKey{}, fmt.Errorf("%q block is not PKCS#8 (%v): %w", block.Type, err, ErrKeyFile)
	}
	priv, ok := key.(ed25519.PrivateKey)
	if !ok {
		return SigningKey{}, fmt.Errorf("%q block holds a %T, want an Ed25519 key: %w", block.Type, key, ErrKeyFile)
	}
	return SigningKey{priv: priv}, nil
}
