package node

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"strings"
	"sync"

	ds "github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"

	"github.com/intentcast/intentcast/intent"
)

// maxProvidersPerKey bounds the provider records a DHT server keeps for one
// rendezvous key. Honest providers of a category are its vendors and
// relays; beyond the bound, records of new providers are dropped until
// older ones expire (48 h), while those already held are refreshed.
const maxProvidersPerKey = 1000

// providerStore is the datastore of the DHT's provider records, bounded.
// go-libp2p-kad-dht (v0.42.2) keeps every ADD_PROVIDER it is sent, for any
// key of up to 80 bytes, and one peer may announce itself for any number
// of keys; its own store has no bound. This one keeps records only for the
// rendezvous keys of the roster's categories, the only keys intentcast
// nodes provide or look up, and at most maxProvidersPerKey per key; other
// writes are dropped without error, so one bad record does not fail the
// batch it is flushed in. docs/RELIABILITY.md says who can fill it.
type providerStore struct {
	ds.Batching // in memory

	mu      sync.Mutex
	allowed map[string]bool // "/providers/<base32 multihash>" of each rendezvous key
	held    map[string]int  // records per allowed key prefix
	max     int
}

func newProviderStore(max int) *providerStore {
	s := &providerStore{
		Batching: dssync.MutexWrap(ds.NewMapDatastore()),
		allowed:  map[string]bool{},
		held:     map[string]int{},
		max:      max,
	}
	for _, c := range intent.Categories {
		h := sha256.Sum256([]byte(RendezvousKey(c)))
		s.allowed[providerPrefixOf(append([]byte{0x12, 0x20}, h[:]...))] = true
	}
	return s
}

// providerPrefixOf is the datastore prefix under which go-libp2p-kad-dht
// keeps the providers of a key: the key (a multihash; for a rendezvous key
// the SHA2-256 one, code 0x12, length 0x20, of the CID RoutingDiscovery
// advertises) in unpadded base32.
func providerPrefixOf(key []byte) string {
	return "/providers/" + base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(key)
}

// record splits a provider record's datastore key into its key prefix; ok
// is false for any other datastore key.
func record(k ds.Key) (prefix string, ok bool) {
	s := k.String()
	if !strings.HasPrefix(s, "/providers/") {
		return "", false
	}
	i := strings.LastIndexByte(s, '/')
	return s[:i], i > len("/providers")
}

func (s *providerStore) Put(ctx context.Context, k ds.Key, v []byte) error {
	prefix, ok := record(k)
	if !ok {
		return s.Batching.Put(ctx, k, v)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.allowed[prefix] {
		return nil
	}
	had, err := s.Batching.Has(ctx, k)
	if err != nil {
		return err
	}
	if !had && s.held[prefix] >= s.max {
		return nil
	}
	if err := s.Batching.Put(ctx, k, v); err != nil {
		return err
	}
	if !had {
		s.held[prefix]++
	}
	return nil
}

func (s *providerStore) Delete(ctx context.Context, k ds.Key) error {
	prefix, ok := record(k)
	if !ok {
		return s.Batching.Delete(ctx, k)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	had, err := s.Batching.Has(ctx, k)
	if err != nil || !had {
		return err
	}
	if err := s.Batching.Delete(ctx, k); err != nil {
		return err
	}
	s.held[prefix]--
	return nil
}

// Batch applies each write through Put and Delete, so the bounds hold for
// the provider manager's flushes and garbage collection alike.
func (s *providerStore) Batch(ctx context.Context) (ds.Batch, error) {
	return ds.NewBasicBatch(s), nil
}
