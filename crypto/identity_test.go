package crypto_test

import (
	"bytes"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intentcast/intentcast/crypto"
)

func TestIdentityFileRoundTrip(t *testing.T) {
	for _, s := range suites {
		t.Run(s.String(), func(t *testing.T) {
			id := crypto.Identity{Signing: mustSigningKey(t), Reply: mustReplyKey(t, s)}
			path := filepath.Join(t.TempDir(), "identity.pem")
			if err := crypto.WriteIdentityFile(path, id); err != nil {
				t.Fatal(err)
			}
			assertMode0600(t, path)
			got, err := crypto.ReadIdentityFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Signing.Seed(), id.Signing.Seed()) {
				t.Error("signing key read back differs from the one written")
			}
			if got.Reply.Suite() != s || !bytes.Equal(got.Reply.Bytes(), id.Reply.Bytes()) {
				t.Errorf("reply key read back is %v, want %v", got.Reply, id.Reply)
			}
		})
	}
}

func TestGenerateIdentity(t *testing.T) {
	id, err := crypto.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	if id.Signing.IsZero() || id.Reply.IsZero() {
		t.Fatalf("GenerateIdentity left a key zero: %v", id)
	}
	if id.Reply.Suite() != crypto.SuiteX25519 {
		t.Errorf("reply key suite = %v, want the default %v", id.Reply.Suite(), crypto.SuiteX25519)
	}
}

// The file format is part of the product (users back it up, docs show it).
func TestIdentityFileFormat(t *testing.T) {
	data := identityPEM(t, crypto.SuiteX25519)
	signing, rest := pem.Decode(data)
	reply, rest := pem.Decode(rest)
	if signing == nil || reply == nil || len(rest) != 0 {
		t.Fatalf("identity file is not exactly two PEM blocks:\n%s", data)
	}
	if signing.Type != "PRIVATE KEY" || reply.Type != "INTENTCAST HPKE PRIVATE KEY" {
		t.Errorf("block types %q, %q; want PRIVATE KEY, INTENTCAST HPKE PRIVATE KEY", signing.Type, reply.Type)
	}
	if !strings.Contains(string(data), "\nSuite: 0x0020\n") {
		t.Errorf("reply key block has no \"Suite: 0x0020\" header:\n%s", data)
	}
	if len(reply.Bytes) != 32 {
		t.Errorf("X25519 reply key block holds %d bytes, want 32", len(reply.Bytes))
	}
}

func TestWriteIdentityFileRejectsZeroKeys(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		id   crypto.Identity
	}{
		{"zero identity", crypto.Identity{}},
		{"zero signing key", crypto.Identity{Reply: mustReplyKey(t, crypto.SuiteX25519)}},
		{"zero reply key", crypto.Identity{Signing: mustSigningKey(t)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "identity.pem")
			if err := crypto.WriteIdentityFile(path, tt.id); err == nil {
				t.Fatal("WriteIdentityFile succeeded")
			}
			if _, err := os.Stat(path); err == nil {
				t.Error("a failed write left a file behind")
			}
		})
	}
}

func TestReadIdentityFileRefusesGarbage(t *testing.T) {
	good := identityPEM(t, crypto.SuiteX25519)
	signing, rest := pem.Decode(good)
	reply, _ := pem.Decode(rest)
	withSuite := func(value string) []byte {
		b := *reply
		b.Headers = map[string]string{"Suite": value}
		return cat(pem.EncodeToMemory(signing), pem.EncodeToMemory(&b))
	}
	withReply := func(b pem.Block) []byte {
		return cat(pem.EncodeToMemory(signing), pem.EncodeToMemory(&b))
	}

	tests := []struct {
		name string
		data []byte
		also error // a second sentinel the error must wrap, if any
	}{
		{"empty", nil, nil},
		{"not PEM", []byte("identity\n"), nil},
		{"signing key only", pem.EncodeToMemory(signing), nil},
		{"reply key only", pem.EncodeToMemory(reply), nil},
		{"blocks swapped", cat(pem.EncodeToMemory(reply), pem.EncodeToMemory(signing)), nil},
		{"three blocks", cat(good, pem.EncodeToMemory(reply)), nil},
		{"text between the blocks", cat(pem.EncodeToMemory(signing), []byte("--\n"), pem.EncodeToMemory(reply)), nil},
		{"no suite header", withReply(pem.Block{Type: reply.Type, Bytes: reply.Bytes}), nil},
		{"extra header", withReply(pem.Block{Type: reply.Type, Headers: map[string]string{"Suite": "0x0020", "Note": "x"}, Bytes: reply.Bytes}), nil},
		{"suite in decimal", withSuite("32"), nil},
		{"suite without leading zeros", withSuite("0x20"), nil},
		{"suite upper-case hex", withSuite("0X0020"), nil},
		{"suite out of range", withSuite("0x10000"), nil},
		{"unknown suite", withSuite("0x0010"), crypto.ErrUnknownSuite},
		{"x25519 key of 31 bytes", withReply(pem.Block{Type: reply.Type, Headers: reply.Headers, Bytes: reply.Bytes[:31]}), nil},
		{"x25519 key of 33 bytes", withReply(pem.Block{Type: reply.Type, Headers: reply.Headers, Bytes: cat(reply.Bytes, []byte{0})}), nil},
		{"signing key not PKCS#8", cat(pemBlock("PRIVATE KEY", []byte("x")), pem.EncodeToMemory(reply)), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := crypto.ReadIdentityFile(writeFile0600(t, tt.data))
			if !errors.Is(err, crypto.ErrKeyFile) {
				t.Fatalf("ReadIdentityFile = %v, %v; want an error wrapping ErrKeyFile", id, err)
			}
			if tt.also != nil && !errors.Is(err, tt.also) {
				t.Errorf("error %v does not wrap %v", err, tt.also)
			}
		})
	}
}

func TestReadIdentityFileRefusesOpenPermissions(t *testing.T) {
	path := writeFile0600(t, identityPEM(t, crypto.SuiteX25519))
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := crypto.ReadIdentityFile(path); !errors.Is(err, crypto.ErrKeyFile) || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("ReadIdentityFile of a 0644 file = %v, want an ErrKeyFile error telling to chmod 600", err)
	}
}

// identityPEM returns the contents of a valid identity file.
func identityPEM(t *testing.T, s crypto.Suite) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "identity.pem")
	id := crypto.Identity{Signing: mustSigningKey(t), Reply: mustReplyKey(t, s)}
	if err := crypto.WriteIdentityFile(path, id); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
