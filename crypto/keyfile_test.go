package crypto_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intentcast/intentcast/crypto"
)

func TestSigningKeyFileRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signing.pem")
	k := mustSigningKey(t)
	if err := crypto.WriteSigningKeyFile(path, k); err != nil {
		t.Fatal(err)
	}
	assertMode0600(t, path)
	got, err := crypto.ReadSigningKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Seed(), k.Seed()) {
		t.Error("the key read back differs from the key written")
	}
}

// The file is standard PKCS#8, so other tools can read it.
func TestSigningKeyFileIsPKCS8(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signing.pem")
	k := mustSigningKey(t)
	if err := crypto.WriteSigningKeyFile(path, k); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, rest := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" || len(rest) != 0 {
		t.Fatalf("file is not one PEM PRIVATE KEY block:\n%s", data)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatalf("x509.ParsePKCS8PrivateKey: %v", err)
	}
	priv, ok := key.(ed25519.PrivateKey)
	if !ok {
		t.Fatalf("the PKCS#8 key is a %T, want ed25519.PrivateKey", key)
	}
	if !k.Public().Equal(priv.Public()) {
		t.Error("the PKCS#8 key is not the key written")
	}
}

func TestWriteKeyFileReplacesAtomically(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "signing.pem")
	first, second := mustSigningKey(t), mustSigningKey(t)
	if err := crypto.WriteSigningKeyFile(path, first); err != nil {
		t.Fatal(err)
	}
	if err := crypto.WriteSigningKeyFile(path, second); err != nil {
		t.Fatal(err)
	}
	got, err := crypto.ReadSigningKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Seed(), second.Seed()) {
		t.Error("after two writes the file holds the first key")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %q, want only signing.pem: a temporary file was left behind", names)
	}
}

func TestWriteKeyFileFails(t *testing.T) {
	dir := t.TempDir()
	if err := crypto.WriteSigningKeyFile(filepath.Join(dir, "missing", "k.pem"), mustSigningKey(t)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("write into a missing directory = %v, want an error wrapping fs.ErrNotExist", err)
	}
	if err := crypto.WriteSigningKeyFile(filepath.Join(dir, "zero.pem"), crypto.SigningKey{}); err == nil {
		t.Error("writing the zero signing key succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, "zero.pem")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a failed write left a file behind (stat: %v)", err)
	}
}

func TestReadKeyFileRefusesOpenPermissions(t *testing.T) {
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o620, 0o602, 0o660, 0o666} {
		t.Run(mode.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "signing.pem")
			if err := crypto.WriteSigningKeyFile(path, mustSigningKey(t)); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, mode); err != nil {
				t.Fatal(err)
			}
			_, err := crypto.ReadSigningKeyFile(path)
			if !errors.Is(err, crypto.ErrKeyFile) {
				t.Fatalf("ReadSigningKeyFile of a %04o file = %v, want an error wrapping ErrKeyFile", mode, err)
			}
			msg := err.Error()
			if !strings.Contains(msg, fmt.Sprintf("mode is %04o", mode)) || !strings.Contains(msg, "chmod 600") {
				t.Errorf("error %q does not say which mode it found and to chmod 600", msg)
			}
		})
	}
}

func TestReadKeyFileAcceptsOwnerOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signing.pem")
	if err := crypto.WriteSigningKeyFile(path, mustSigningKey(t)); err != nil {
		t.Fatal(err)
	}
	// Read-only for the owner is stricter than 0600, not looser.
	if err := os.Chmod(path, 0o400); err != nil {
		t.Fatal(err)
	}
	if _, err := crypto.ReadSigningKeyFile(path); err != nil {
		t.Errorf("ReadSigningKeyFile of a 0400 file: %v", err)
	}
}

func TestReadKeyFileRefusesNonFiles(t *testing.T) {
	dir := t.TempDir()
	if _, err := crypto.ReadSigningKeyFile(filepath.Join(dir, "missing.pem")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("reading a missing file = %v, want an error wrapping fs.ErrNotExist", err)
	}
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := crypto.ReadSigningKeyFile(sub); !errors.Is(err, crypto.ErrKeyFile) {
		t.Errorf("reading a directory = %v, want an error wrapping ErrKeyFile", err)
	}
	big := filepath.Join(dir, "big.pem")
	if err := os.WriteFile(big, bytes.Repeat([]byte("\n"), 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := crypto.ReadSigningKeyFile(big); !errors.Is(err, crypto.ErrKeyFile) {
		t.Errorf("reading a 1 MiB file = %v, want an error wrapping ErrKeyFile", err)
	}
}

func TestReadSigningKeyFileRefusesGarbage(t *testing.T) {
	good := signingKeyPEM(t)
	identity := identityPEM(t, crypto.SuiteX25519)
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p256DER, err := x509.MarshalPKCS8PrivateKey(p256)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(good)
	withHeader := *block
	withHeader.Headers = map[string]string{"Proc-Type": "4,ENCRYPTED"}

	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"only whitespace", []byte("\n \n")},
		{"not PEM", []byte("hello, world\n")},
		{"raw seed", bytes.Repeat([]byte{1}, 32)},
		{"text before the block", append([]byte("key:\n"), good...)},
		{"text after the block", append(bytes.Clone(good), "trailer\n"...)},
		{"truncated block", good[:len(good)-10]},
		{"wrong PEM type", pemBlock("ED25519 PRIVATE KEY", block.Bytes)},
		{"public key", pemBlock("PUBLIC KEY", block.Bytes)},
		{"PKCS#8 of a P-256 key", pemBlock("PRIVATE KEY", p256DER)},
		{"not PKCS#8", pemBlock("PRIVATE KEY", []byte("not DER"))},
		{"encrypted-looking header", pem.EncodeToMemory(&withHeader)},
		{"two keys", append(bytes.Clone(good), good...)},
		{"an identity file", identity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile0600(t, tt.data)
			k, err := crypto.ReadSigningKeyFile(path)
			if !errors.Is(err, crypto.ErrKeyFile) {
				t.Errorf("ReadSigningKeyFile = %v, %v; want an error wrapping ErrKeyFile", k, err)
			}
		})
	}
}

func assertMode0600(t *testing.T, path string) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != 0o600 {
		t.Errorf("%s has mode %04o, want 0600", path, got)
	}
}

func writeFile0600(t *testing.T, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func pemBlock(typ string, b []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b})
}

// signingKeyPEM returns the contents of a valid signing key file.
func signingKeyPEM(t *testing.T) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "signing.pem")
	if err := crypto.WriteSigningKeyFile(path, mustSigningKey(t)); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
