package crypto

import (
	"bytes"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
)

// keyFileMode is the only mode key files are written with.
const keyFileMode = 0o600

// maxKeyFileSize is far above any key file this package writes (an identity
// file is under 1 KiB); it keeps a wrong path from being read into memory.
const maxKeyFileSize = 64 << 10

// writeKeyFile replaces path with data atomically: a reader sees the old file
// or the new one, never a torn or empty one, even after a crash.
func writeKeyFile(path string, data []byte) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return fmt.Errorf("write key file %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	// CreateTemp's 0600 is subject to the umask; make it exact.
	if err := f.Chmod(keyFileMode); err != nil {
		return fmt.Errorf("write key file %s: set mode %04o: %w", path, keyFileMode, err)
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write key file %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write key file %s: sync: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write key file %s: close: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write key file %s: rename into place: %w", path, err)
	}
	// Sync the directory so the rename itself survives a crash.
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("write key file %s: open directory to sync: %w", path, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("write key file %s: sync directory: %w", path, err)
	}
	return nil
}

// readKeyFile reads a key file, refusing one that group or others can access:
// a private key other users could read is already compromised.
func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("read key file %s: it is not a regular file (mode %s): %w", path, info.Mode(), ErrKeyFile)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("read key file %s: mode is %04o, so group or others can access it; run chmod 600 %s: %w",
			path, perm, path, ErrKeyFile)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read key file %s: %w", path, err)
	}
	if len(data) > maxKeyFileSize {
		return nil, fmt.Errorf("read key file %s: larger than %d bytes, so not a key file: %w", path, maxKeyFileSize, ErrKeyFile)
	}
	return data, nil
}

// decodePEM returns the PEM blocks that make up data, refusing anything
// other than whitespace around and between them (pem.Decode alone would
// skip text before a block).
func decodePEM(data []byte) ([]*pem.Block, error) {
	var blocks []*pem.Block
	for rest := bytes.TrimSpace(data); len(rest) > 0; {
		if !bytes.HasPrefix(rest, []byte("-----BEGIN ")) {
			return nil, fmt.Errorf("expected PEM block %d to begin with \"-----BEGIN \", found other text: %w", len(blocks)+1, ErrKeyFile)
		}
		block, next := pem.Decode(rest)
		if block == nil {
			return nil, fmt.Errorf("PEM block %d is not valid PEM: %w", len(blocks)+1, ErrKeyFile)
		}
		blocks = append(blocks, block)
		rest = bytes.TrimSpace(next)
	}
	if len(blocks) == 0 {
		return nil, fmt.Errorf("no PEM block found: %w", ErrKeyFile)
	}
	return blocks, nil
}

// checkBlockTypes requires exactly the given PEM block types, in order.
func checkBlockTypes(blocks []*pem.Block, want ...string) error {
	got := make([]string, len(blocks))
	for i, b := range blocks {
		got[i] = b.Type
	}
	if !slices.Equal(got, want) {
		return fmt.Errorf("found PEM blocks %q, want %q: %w", got, want, ErrKeyFile)
	}
	return nil
}
