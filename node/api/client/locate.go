package client

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
)

// A client finds a daemon on its own machine the way the CLI does: the
// daemon writes the address it listens on to AddrFile in its data
// directory when it starts, and keeps its bearer token in TokenFile there.

// The files of a data directory that a client reads.
const (
	AddrFile  = "api.addr"  // the running daemon's API address, written at start
	TokenFile = "api.token" // the API bearer token, 64 hex digits, mode 0600
)

// DefaultAddr is where the API listens unless configured otherwise.
const DefaultAddr = "127.0.0.1:7733"

// ErrBadAddr means an API address is neither host:port nor an http URL.
var ErrBadAddr = errors.New("want host:port such as 127.0.0.1:7733, or http://127.0.0.1:7733")

// DataDir resolves the data directory: dir (made absolute) if not empty,
// else $XDG_DATA_HOME/intentcast, else ~/.local/share/intentcast.
func DataDir(dir string) (string, error) {
	if dir != "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return "", fmt.Errorf("data dir %q: %w", dir, err)
		}
		return abs, nil
	}
	if x := os.Getenv("XDG_DATA_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "intentcast"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no --data-dir given and no home directory to default to: %w", err)
	}
	return filepath.Join(home, ".local", "share", "intentcast"), nil
}

// BaseURL turns host:port or an http(s) URL into a base URL for New. It
// returns ErrBadAddr for anything else.
func BaseURL(addr string) (string, error) {
	if strings.HasPrefix(addr, "http://") || strings.HasPrefix(addr, "https://") {
		return strings.TrimRight(addr, "/"), nil
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return "", ErrBadAddr
	}
	return "http://" + addr, nil
}

// ReadPrivateFile reads a secret of the data dir (the API token, the
// daemon's keys), refusing one that group or others can access.
func ReadPrivateFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%s has mode %04o, so other users can read it; run chmod 600 %s", path, perm, path)
	}
	return os.ReadFile(path)
}

// ReadToken reads an API token file, refusing one that group or others can
// access: whoever holds the token commands the node.
func ReadToken(path string) (string, error) {
	b, err := ReadPrivateFile(path)
	if err != nil {
		return "", err
	}
	t := strings.TrimSpace(string(b))
	if t == "" {
		return "", fmt.Errorf("API token file %s is empty; delete it and run `intentcast init` for a new one", path)
	}
	return t, nil
}

// Daemon is where a daemon's API answers and the token it wants.
type Daemon struct {
	URL  string // base URL, for New
	Addr string // the address as given or found, for messages
	// Token is "" when none was given or found: the daemon then answers
	// 401, and TokenFile says where the token was looked for.
	Token string
	// TokenFile is the file Token was read from or looked for; "" when
	// the token was given.
	TokenFile string
}

// Locate finds a daemon: at addr (host:port or an http URL), else at the
// address in the data directory's AddrFile, else at DefaultAddr; with
// token, else the one in the data directory's TokenFile. dataDir is
// resolved by DataDir. A missing token file is not an error (see Daemon);
// a bad address is ErrBadAddr, with Daemon.Addr set.
func Locate(addr, token, dataDir string) (Daemon, error) {
	var d Daemon
	dir := ""
	if addr == "" || token == "" {
		var err error
		// Without a data directory, given values still work.
		if dir, err = DataDir(dataDir); err != nil && addr == "" && token == "" {
			return d, err
		}
	}
	if addr == "" {
		addr = DefaultAddr
		if dir != "" {
			if b, err := os.ReadFile(filepath.Join(dir, AddrFile)); err == nil && strings.TrimSpace(string(b)) != "" {
				addr = strings.TrimSpace(string(b))
			}
		}
	}
	d.Addr = addr
	base, err := BaseURL(addr)
	if err != nil {
		return d, fmt.Errorf("API address %q: %w", addr, err)
	}
	d.URL = base
	if token == "" && dir != "" {
		d.TokenFile = filepath.Join(dir, TokenFile)
		t, err := ReadToken(d.TokenFile)
		switch {
		case err == nil:
			token = t
		case errors.Is(err, os.ErrNotExist):
			// The daemon will say no; TokenFile says where we looked.
		default:
			return d, err
		}
	}
	d.Token = token
	return d, nil
}
