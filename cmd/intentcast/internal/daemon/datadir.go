package daemon

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	p2pcrypto "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/intentcast/intentcast/crypto"
	"github.com/intentcast/intentcast/node/api/client"
)

// The files of a data directory.
const (
	NodeKeyFile   = "node.key"       // libp2p identity (protobuf-marshalled private key), 0600
	VendorKeyFile = "vendor.key"     // vendor identity (crypto.WriteIdentityFile), 0600
	ConfigFile    = "config.toml"    // Config, commented
	TokenFile     = client.TokenFile // API bearer token, 64 hex digits, 0600
	AddrFile      = client.AddrFile  // the running daemon's API address, written at start
)

// Dir is a resolved data directory.
type Dir string

// Path is the path of the named file in d.
func (d Dir) Path(name string) string { return filepath.Join(string(d), name) }

// ResolveDir returns the data directory (client.DataDir): the flag (or
// INTENTCAST_DATA_DIR), else $XDG_DATA_HOME/intentcast, else
// ~/.local/share/intentcast.
func ResolveDir(flag string) (Dir, error) {
	d, err := client.DataDir(flag)
	return Dir(d), err
}

// InitReport says what init did with each file.
type InitReport struct {
	Dir     string   `json:"data_dir"`
	Profile string   `json:"profile"`
	PeerID  string   `json:"peer_id"`
	Created []string `json:"created"`
	Kept    []string `json:"kept"`
}

// Init creates whatever the data directory lacks. Keys and the token
// are never replaced; config.toml only when forceConfig is set. bootstrap
// goes into a new config.toml's bootstrap list.
func Init(dir Dir, profile string, forceConfig bool, bootstrap []string) (InitReport, error) {
	r := InitReport{Dir: string(dir), Profile: profile, Created: []string{}, Kept: []string{}}
	cfg, err := ProfileConfig(profile)
	if err != nil {
		return r, err
	}
	cfg.Node.Bootstrap = append(cfg.Node.Bootstrap, bootstrap...)
	if err := os.MkdirAll(string(dir), 0o700); err != nil {
		return r, fmt.Errorf("create data dir: %w", err)
	}
	// MkdirAll's mode is subject to the umask and leaves an existing
	// directory as it is: the keys and the token live here, so make it
	// exactly 0700 either way.
	if err := os.Chmod(string(dir), 0o700); err != nil {
		return r, fmt.Errorf("data dir %s: make it private (mode 0700): %w", dir, err)
	}
	note := func(created bool, name string) {
		if created {
			r.Created = append(r.Created, name)
		} else {
			r.Kept = append(r.Kept, name)
		}
	}

	id, created, err := ensureNodeKey(dir.Path(NodeKeyFile))
	if err != nil {
		return r, err
	}
	r.PeerID = id.String()
	note(created, NodeKeyFile)

	created, err = ensureVendorKey(dir.Path(VendorKeyFile))
	if err != nil {
		return r, err
	}
	note(created, VendorKeyFile)

	created, err = ensureToken(dir.Path(TokenFile))
	if err != nil {
		return r, err
	}
	note(created, TokenFile)

	data, err := renderConfig(cfg, profile)
	if err != nil {
		return r, err
	}
	if forceConfig {
		err = WriteFileAtomic(dir.Path(ConfigFile), data, 0o600)
		created = err == nil
	} else {
		created, err = createFileAtomic(dir.Path(ConfigFile), data, 0o600)
	}
	if err != nil {
		return r, fmt.Errorf("write %s: %w", ConfigFile, err)
	}
	note(created, ConfigFile)
	return r, nil
}

// ensureNodeKey reads the libp2p key at path, creating it if missing.
func ensureNodeKey(path string) (peer.ID, bool, error) {
	if ok, err := fileExists(path); err != nil {
		return "", false, err
	} else if ok {
		k, err := ReadNodeKey(path)
		if err != nil {
			return "", false, err
		}
		id, err := peer.IDFromPrivateKey(k)
		return id, false, err
	}
	k, _, err := p2pcrypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		return "", false, fmt.Errorf("generate node key: %w", err)
	}
	b, err := p2pcrypto.MarshalPrivateKey(k)
	if err != nil {
		return "", false, fmt.Errorf("marshal node key: %w", err)
	}
	created, err := createFileAtomic(path, b, 0o600)
	if err != nil {
		return "", false, fmt.Errorf("write node key: %w", err)
	}
	if !created { // lost a race with another init: use its key
		return ensureNodeKey(path)
	}
	id, err := peer.IDFromPrivateKey(k)
	return id, true, err
}

// ReadNodeKey reads the libp2p key, refusing a file others can read.
func ReadNodeKey(path string) (p2pcrypto.PrivKey, error) {
	b, err := client.ReadPrivateFile(path)
	if err != nil {
		return nil, err
	}
	k, err := p2pcrypto.UnmarshalPrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("node key %s is not a libp2p private key: %w; move it away and run `intentcast init` for a new one (a new peer ID)", path, err)
	}
	return k, nil
}

// ensureVendorKey checks the vendor identity at path, creating it if missing.
func ensureVendorKey(path string) (bool, error) {
	if ok, err := fileExists(path); err != nil {
		return false, err
	} else if ok {
		_, err := crypto.ReadIdentityFile(path)
		return false, err
	}
	id, err := crypto.GenerateIdentity()
	if err != nil {
		return false, err
	}
	// WriteIdentityFile replaces; going through a temporary name and a
	// hard link keeps a concurrent init from replacing a key.
	nonce := make([]byte, 6)
	rand.Read(nonce)
	tmp := fmt.Sprintf("%s.%x.new", path, nonce)
	if err := crypto.WriteIdentityFile(tmp, id); err != nil {
		return false, err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return false, nil
		}
		return false, fmt.Errorf("write vendor key: %w", err)
	}
	return true, syncDir(filepath.Dir(path))
}

// ensureToken creates the API token file if missing.
func ensureToken(path string) (bool, error) {
	if ok, err := fileExists(path); err != nil || ok {
		if ok {
			_, err = client.ReadToken(path)
		}
		return false, err
	}
	b := make([]byte, 32)
	rand.Read(b)
	return createFileAtomic(path, []byte(hex.EncodeToString(b)+"\n"), 0o600)
}

// WriteFileAtomic replaces path with data: readers see the old file or the
// new one, never a torn one, even after a crash.
func WriteFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := writeTemp(path, data, mode)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(path))
}

// createFileAtomic is WriteFileAtomic that never replaces an existing file:
// it reports false if path exists.
func createFileAtomic(path string, data []byte, mode os.FileMode) (bool, error) {
	tmp, err := writeTemp(path, data, mode)
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return false, nil
		}
		return false, err
	}
	return true, syncDir(filepath.Dir(path))
}

// writeTemp writes data, synced and with exactly mode, to a new file next to
// path and returns its name.
func writeTemp(path string, data []byte, mode os.FileMode) (name string, err error) {
	dir, base := filepath.Split(path)
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(mode); err != nil {
		return "", err
	}
	if _, err := f.Write(data); err != nil {
		return "", err
	}
	if err := f.Sync(); err != nil {
		return "", err
	}
	return f.Name(), f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
