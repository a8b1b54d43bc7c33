package node

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	corenet "github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// PeersFile is the address book's file name inside Config.DataDir.
const PeersFile = "peers.json"

// Address book bounds. A peer enters the book by connecting to us, so the
// book is a cap strangers can fill: peers we dialled ourselves and peers
// that dialled us have separate quotas, and inbound peers evict only
// inbound ones. A flood of fresh identities can push out our earlier
// inbound peers, never the peers we chose.
const (
	bookMaxDialled   = 48
	bookMaxInbound   = 16
	bookMaxAddrs     = 8 // per peer: listen, observed and relay addresses
	bookRedial       = 16
	bookSaveInterval = time.Minute
)

// addrBook is the peers this node has been connected to and the addresses
// they listen on, kept in DataDir/peers.json so that a restarted node (on
// new ports, or after its peers moved) redials them instead of waiting to be
// found. It is a cache: a missing or unreadable file means an empty book.
type addrBook struct {
	path string

	mu    sync.Mutex
	peers map[peer.ID]bookEntry
	dirty bool
}

// bookEntry is one peer of the address book, as written to the file.
type bookEntry struct {
	ID       peer.ID   `json:"id"`
	Addrs    []string  `json:"addrs"`
	Dialled  bool      `json:"dialled"` // this node dialled it at least once
	LastSeen time.Time `json:"last_seen"`
}

// bookFile is the file's format.
type bookFile struct {
	Version int         `json:"version"`
	Peers   []bookEntry `json:"peers"`
}

// loadAddrBook reads the book at path. A file that is missing starts an
// empty book; one that is unreadable or malformed too, with a warning
// (the node finds its peers again through bootstrap and discovery). An
// empty path is a book kept in memory only.
func loadAddrBook(path string, self peer.ID, log *slog.Logger) *addrBook {
	b := &addrBook{path: path, peers: make(map[peer.ID]bookEntry)}
	if path == "" {
		return b
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return b
	}
	var f bookFile
	if err == nil {
		err = json.Unmarshal(data, &f)
	}
	if err == nil && f.Version != 1 {
		err = fmt.Errorf("version %d, want 1", f.Version)
	}
	if err != nil {
		log.Warn("address book unreadable; starting with an empty one", "file", path, "err", err)
		return b
	}
	for _, e := range f.Peers {
		if e.ID.Validate() != nil || e.ID == self {
			continue
		}
		e.Addrs = validAddrs(e.Addrs)
		if len(e.Addrs) > 0 {
			b.peers[e.ID] = e
		}
	}
	b.trim()
	return b
}

// validAddrs keeps the entries that parse as multiaddrs, at most bookMaxAddrs.
func validAddrs(in []string) []string {
	var out []string
	for _, s := range in {
		if _, err := ma.NewMultiaddr(s); err == nil && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out[:min(len(out), bookMaxAddrs)]
}

// redialList returns the peers to dial at start: dialled peers first, then
// the most recently seen, at most bookRedial.
func (b *addrBook) redialList() []peer.AddrInfo {
	b.mu.Lock()
	defer b.mu.Unlock()
	entries := b.sorted()
	var out []peer.AddrInfo
	for _, e := range entries[:min(len(entries), bookRedial)] {
		info := peer.AddrInfo{ID: e.ID}
		for _, s := range e.Addrs {
			if a, err := ma.NewMultiaddr(s); err == nil {
				info.Addrs = append(info.Addrs, a)
			}
		}
		out = append(out, info)
	}
	return out
}

// sorted returns the entries, dialled peers first, then newest first.
func (b *addrBook) sorted() []bookEntry {
	entries := make([]bookEntry, 0, len(b.peers))
	for _, e := range b.peers {
		entries = append(entries, e)
	}
	slices.SortFunc(entries, func(x, y bookEntry) int {
		if x.Dialled != y.Dialled {
			if x.Dialled {
				return -1
			}
			return 1
		}
		return cmp.Or(y.LastSeen.Compare(x.LastSeen), cmp.Compare(x.ID, y.ID))
	})
	return entries
}

// record notes the peers h is connected to now, with the addresses the
// peerstore has for them (what they announced by identify, so listen
// addresses, not the ephemeral port an inbound peer dialled from).
func (b *addrBook) record(h host.Host, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, id := range h.Network().Peers() {
		var addrs []string
		for _, a := range h.Peerstore().Addrs(id) {
			addrs = append(addrs, a.String())
		}
		addrs = validAddrs(addrs)
		if len(addrs) == 0 {
			continue
		}
		e := b.peers[id]
		e.ID, e.Addrs, e.LastSeen = id, addrs, now
		for _, c := range h.Network().ConnsToPeer(id) {
			if c.Stat().Direction == corenet.DirOutbound {
				e.Dialled = true
			}
		}
		b.peers[id] = e
		b.dirty = true
	}
	b.trim()
}

// trim enforces the quotas, dropping the least recently seen.
func (b *addrBook) trim() {
	dialled, inbound := 0, 0
	for _, e := range b.sorted() {
		keep := false
		if e.Dialled {
			dialled++
			keep = dialled <= bookMaxDialled
		} else {
			inbound++
			keep = inbound <= bookMaxInbound
		}
		if !keep {
			delete(b.peers, e.ID)
			b.dirty = true
		}
	}
}

// forget drops a peer.
func (b *addrBook) forget(id peer.ID) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.peers[id]; ok {
		delete(b.peers, id)
		b.dirty = true
	}
}

// save writes the book if it changed since the last save. The write is
// atomic (a temporary file renamed over the old one), so a crash leaves the
// old book or the new one.
func (b *addrBook) save() error {
	b.mu.Lock()
	if !b.dirty || b.path == "" {
		b.mu.Unlock()
		return nil
	}
	data, err := json.MarshalIndent(bookFile{Version: 1, Peers: b.sorted()}, "", "  ")
	b.dirty = false
	b.mu.Unlock()
	if err != nil {
		return err
	}
	if err := writeFileAtomic(b.path, append(data, '\n')); err != nil {
		b.mu.Lock()
		b.dirty = true
		b.mu.Unlock()
		return fmt.Errorf("save address book: %w", err)
	}
	return nil
}

// writeFileAtomic replaces path with data, synced, mode 0600.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
