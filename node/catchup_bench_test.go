package node

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/intentcast/intentcast/crypto"
	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node/store"
)

// BenchmarkCatchUp measures store-and-forward's catch-up: a relay keeps N
// sealed offers (to N/10 intents, ten each) that a customer's node missed;
// one op is one /intentcast/sync/2 session of the returning node, from
// opening the stream to the last offer delivered. The node already holds
// the intents (it was offline only while the offers were made).
func BenchmarkCatchUp(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("offers=%d", n), func(b *testing.B) { benchCatchUp(b, n) })
	}
}

func benchCatchUp(b *testing.B, n int) {
	cfg := func() Config {
		return Config{
			ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"}, DisableMDNS: true,
			DataDir: b.TempDir(), Policy: intent.Policy{MinWork: testPolicy.MinWork, MinOfferWork: 4}, Categories: testCategories,
			SyncDelay: time.Hour, SyncInterval: time.Hour, SyncServeInterval: time.Nanosecond,
			Logger: slog.New(slog.DiscardHandler),
		}
	}
	relay, err := New(b.Context(), cfg())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { relay.Close() })
	vendor, err := crypto.GenerateIdentity()
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	var intents []*intent.SignedIntent
	var offers [][]byte
	for i := range max(n/10, 1) {
		d := laptopDraft(now)
		d.Text = fmt.Sprintf("item %d", i)
		d.Work = testPolicy.MinWork
		in, _, err := intent.NewIntent(b.Context(), d, nil)
		if err != nil {
			b.Fatal(err)
		}
		intents = append(intents, in)
		benchIngest(b, relay, false, in.Raw)
		for j := range min(10, n) {
			s, _, err := intent.NewOffer(in, vendor, intent.OfferDraft{Price: uint64(1000 + j), Vendor: intent.Vendor{Name: "v"}, Created: now, ValidUntil: now.Add(time.Hour)})
			if err != nil {
				b.Fatal(err)
			}
			if err := s.Mint(b.Context(), relay.cfg.Policy.OfferWork()); err != nil {
				b.Fatal(err)
			}
			benchIngest(b, relay, true, s.Raw)
			offers = append(offers, s.Raw)
		}
	}
	var bytes int
	for _, o := range offers {
		bytes += len(o)
	}
	b.ReportMetric(float64(bytes)/float64(len(offers)), "B/offer")
	for b.Loop() {
		b.StopTimer()
		back, err := New(b.Context(), cfg())
		if err != nil {
			b.Fatal(err)
		}
		for _, in := range intents {
			benchIngest(b, back, false, in.Raw)
		}
		if err := back.Connect(b.Context(), peer.AddrInfo{ID: relay.ID(), Addrs: relay.net.host.Addrs()}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := back.sync.syncPeer(b.Context(), relay.ID()); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if got := back.SyncStats().Offers; got != len(offers) {
			b.Fatalf("caught up %d offers, want %d", got, len(offers))
		}
		back.Close()
		b.StartTimer()
	}
}

func benchIngest(b *testing.B, n *Node, offers bool, raw []byte) {
	m, err := n.check(b.Context(), "electronics", offers, raw)
	if err != nil {
		b.Fatal(err)
	}
	n.deliver(b.Context(), m)
}

// BenchmarkRelayStoreCost measures what store-and-forward costs on disk:
// one op writes the sealed offers of 10,000 live intents (three offers
// each, of the size a real sealed offer has) into a fresh store, in
// flush-sized batches, and reports the file's growth per intent.
func BenchmarkRelayStoreCost(b *testing.B) {
	const intents, perIntent = 10_000, 3
	sealed := make([]byte, 1100) // about a real sealed offer (BenchmarkCatchUp reports it)
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		s, err := store.Open(filepath.Join(dir, "store.db"))
		if err != nil {
			b.Fatal(err)
		}
		before := fileSize(b, filepath.Join(dir, "store.db"))
		b.StartTimer()
		var batch store.Batch
		for i := range intents * perIntent {
			var id, intentID store.ID
			id[0], id[1], id[2], id[3] = byte(i>>24), byte(i>>16), byte(i>>8), byte(i)
			id[4] = 0xaa
			j := i / perIntent
			intentID[0], intentID[1], intentID[2] = byte(j>>16), byte(j>>8), byte(j)
			batch.Relay = append(batch.Relay, store.RelayedOffer{ID: id, IntentID: intentID, Category: "electronics", Raw: sealed, Expires: time.Now().Add(time.Hour)})
			if len(batch.Relay) == 1024 {
				if err := s.Apply(b.Context(), batch); err != nil {
					b.Fatal(err)
				}
				batch = store.Batch{}
			}
		}
		if err := s.Apply(b.Context(), batch); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		s.Close()
		after := fileSize(b, filepath.Join(dir, "store.db"))
		b.ReportMetric(float64(after-before)/intents, "disk-B/intent")
		b.ReportMetric(float64(intents*perIntent*len(sealed))/intents, "wire-B/intent")
		b.StartTimer()
	}
}

func fileSize(b *testing.B, path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return fi.Size()
}
