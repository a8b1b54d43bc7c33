package store_test

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node/store"
)

// Benchmarks run on a real file in the test's temporary directory, so every
// write includes bbolt's fsync: the numbers depend on the disk.

// BenchmarkDiskSync is the disk's floor under every commit: rewrite one
// 4 KiB page of a file in the test's temporary directory and fdatasync it,
// as bbolt does twice per commit (its pages, then its meta page).
// cpu-ns/op is the process's CPU time per sync: the kernel's share of a
// sync counts in the CPU a node uses.
func BenchmarkDiskSync(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "sync"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	page := make([]byte, 4096)
	c0 := processCPU()
	i := 0
	for b.Loop() {
		if _, err := f.WriteAt(page, int64(i%64)*4096); err != nil {
			b.Fatal(err)
		}
		if err := syscall.Fdatasync(int(f.Fd())); err != nil {
			b.Fatal(err)
		}
		i++
	}
	reportCPU(b, c0)
}

// BenchmarkJournalSync compares two ways to append a journal record
// (1 KiB, about a publish's) and sync it. "overwrite" writes over a file
// already filled to 64 KiB, as the journal does since 2026-12-04; the
// others write at the end of a file that the checkpoint cuts to nothing,
// as it did before, so each fdatasync must also record the file's new
// length: "grow-busy" with 64 records between
// checkpoints, "grow-quiet" with one (a node that publishes less often
// than every four seconds).
func BenchmarkJournalSync(b *testing.B) {
	rec := make([]byte, 1024)
	for _, c := range []struct {
		name  string
		cut   bool // the checkpoint cuts the file
		every int  // records between checkpoints
	}{{"overwrite", false, 64}, {"grow-busy", true, 64}, {"grow-quiet", true, 1}} {
		b.Run(c.name, func(b *testing.B) {
			f, err := os.Create(filepath.Join(b.TempDir(), "journal"))
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			if _, err := f.Write(make([]byte, 64<<10)); err != nil {
				b.Fatal(err)
			}
			if err := syscall.Fdatasync(int(f.Fd())); err != nil {
				b.Fatal(err)
			}
			c0 := processCPU()
			i := 0
			for b.Loop() {
				at := int64(i%c.every) * 1024
				if c.cut && at == 0 {
					if err := f.Truncate(0); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := f.WriteAt(rec, at); err != nil {
					b.Fatal(err)
				}
				if err := syscall.Fdatasync(int(f.Fd())); err != nil {
					b.Fatal(err)
				}
				i++
			}
			reportCPU(b, c0)
		})
	}
}

// processCPU is the process's CPU time so far (user + system): the
// kernel's share of a sync counts in the CPU a node uses.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the process's CPU time per op since c0 as cpu-ns/op.
func reportCPU(b *testing.B, c0 time.Duration) {
	b.ReportMetric(float64(processCPU()-c0)/float64(b.N), "cpu-ns/op")
}

// counterID returns distinct IDs for distinct n.
func counterID(n uint64) store.ID {
	var id store.ID
	binary.BigEndian.PutUint64(id[:], n)
	return id
}

// BenchmarkMarkSeen measures the replay check every validated message pays:
// "fresh" is a new ID (a write transaction and an fsync), "repeat" a known
// one (a read transaction only).
func BenchmarkMarkSeen(b *testing.B) {
	ctx := b.Context()
	until := time.Now().Add(time.Hour)
	b.Run("fresh", func(b *testing.B) {
		s := openBolt(b, filepath.Join(b.TempDir(), "store.db"))
		var n uint64
		for b.Loop() {
			n++
			if fresh, err := s.MarkSeen(ctx, counterID(n), until); err != nil || !fresh {
				b.Fatal(fresh, err)
			}
		}
	})
	b.Run("repeat", func(b *testing.B) {
		s := openBolt(b, filepath.Join(b.TempDir(), "store.db"))
		known := counterID(1)
		if _, err := s.MarkSeen(ctx, known, until); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if fresh, err := s.MarkSeen(ctx, known, until); err != nil || fresh {
				b.Fatal(fresh, err)
			}
		}
	})
}

// BenchmarkPutLiveIntent measures storing one gossiped intent of a typical
// size.
func BenchmarkPutLiveIntent(b *testing.B) {
	ctx := b.Context()
	s := openBolt(b, filepath.Join(b.TempDir(), "store.db"))
	now := time.Now()
	raw := make([]byte, 1024)
	var n uint64
	for b.Loop() {
		n++
		in := store.LiveIntent{ID: counterID(n), Category: "electronics", Raw: raw, Expires: now.Add(time.Hour), Received: now}
		if err := s.PutLiveIntent(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLiveIntents measures listing the 200 live intents (what a node
// loads at start) in a store that also holds 100 expired ones.
func BenchmarkLiveIntents(b *testing.B) {
	ctx := b.Context()
	s := openBolt(b, filepath.Join(b.TempDir(), "store.db"))
	now := time.Now()
	raw := make([]byte, 1024)
	for i := range 300 {
		in := store.LiveIntent{ID: counterID(uint64(i)), Category: "electronics", Raw: raw,
			Expires: now.Add(time.Hour), Received: now.Add(time.Duration(i) * time.Millisecond)}
		switch {
		case i >= 200:
			in.Category = "home"
		case i >= 100:
			in.Expires = now.Add(-time.Hour)
		}
		if err := s.PutLiveIntent(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		list, err := s.LiveIntents(ctx, now)
		if err != nil || len(list) != 200 {
			b.Fatalf("LiveIntents = %d intents, %v; want 200", len(list), err)
		}
	}
}

// BenchmarkApply measures the node's state changes: "accept" is one
// accept (own intent, offer and deal in one transaction); "accept-8" is
// eight callers at once, which group commit lets share transactions.
func BenchmarkApply(b *testing.B) {
	ctx := b.Context()
	now := time.Now()
	raw := make([]byte, 1024)
	var n atomic.Uint64
	batch := func() store.Batch {
		i := n.Add(1)
		id, offerID := counterID(i), counterID(i|1<<63)
		return store.Batch{
			Own: []store.OwnIntent{{ID: id, Category: "electronics", Raw: raw, SigningSeed: make([]byte, 32),
				ReplyKey: make([]byte, 32), Created: now, Expires: now.Add(time.Hour), State: store.IntentAccepted, AcceptedOffer: offerID}},
			Offers: []store.Offer{{ID: offerID, IntentID: id, Direction: store.Received, Raw: raw, Inner: raw,
				Status: store.OfferAccepted, Received: now, AcceptRaw: raw[:200]}},
			Deals: []store.Deal{{IntentID: id, OfferID: offerID, Role: store.RoleCustomer, IntentRaw: raw,
				OfferInner: raw, AcceptRaw: raw[:200], Closed: now}},
		}
	}
	// "publish" is a publish's batch by Apply, "publish-queued" by Queue
	// (durable by the journal, written into the tree by the checkpoint;
	// Close, timed, writes what is left): cpu-ns/op includes both.
	for _, queued := range []bool{false, true} {
		name := map[bool]string{false: "publish", true: "publish-queued"}[queued]
		b.Run(name, func(b *testing.B) {
			s := openBolt(b, filepath.Join(b.TempDir(), "store.db"))
			raw := raw[:350]
			c0 := processCPU()
			for b.Loop() {
				i := n.Add(1)
				id := counterID(i)
				batch := store.Batch{
					Own: []store.OwnIntent{{ID: id, Category: "electronics", Raw: raw, SigningSeed: make([]byte, 32),
						ReplyKey: make([]byte, 32), Created: now, Expires: now.Add(time.Hour), State: store.IntentOpen}},
					Outbox: []store.Outgoing{{ID: id, Kind: store.MessageIntent, IntentID: id, Category: "electronics", Raw: raw,
						Status: store.SendQueued, Queued: now, Expires: now.Add(time.Hour)}},
				}
				var err error
				if queued {
					err = s.Queue(ctx, batch)()
				} else {
					err = s.Apply(ctx, batch)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			if err := s.Close(); err != nil {
				b.Fatal(err)
			}
			reportCPU(b, c0)
		})
	}
	// "queued-8": eight callers Queue at once (offers arriving at a
	// customer while it accepts one), their appends sharing syncs.
	b.Run("queued-8", func(b *testing.B) {
		s := openBolt(b, filepath.Join(b.TempDir(), "store.db"))
		b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0)))
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := s.Queue(ctx, batch())(); err != nil {
					b.Error(err)
					return
				}
			}
		})
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	})
	b.Run("accept", func(b *testing.B) {
		s := openBolt(b, filepath.Join(b.TempDir(), "store.db"))
		for b.Loop() {
			if err := s.Apply(ctx, batch()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("accept-8", func(b *testing.B) {
		s := openBolt(b, filepath.Join(b.TempDir(), "store.db"))
		b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0)))
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := s.Apply(ctx, batch()); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkRelayFlush measures a relay's write-behind flush: one Apply of
// a flush's worth of gossiped intents (batch; random IDs, as intent IDs
// are hashes) into a store that already holds some (held). Reported per
// intent: CPU (the commit's syncs included), bytes allocated (the batch's
// own slice included), which in a node drive its collector, and bytes
// written. Each op adds a batch, so the store grows from held: run it with
// a few ops (-benchtime 3x) to measure a store of about that size; the
// bench swarm's nodes hold about a hundred live intents, a node in use
// thousands. Expiries are "ordered" (each intent lives an hour from its
// arrival: the API's default lifetime, 72 h, makes most real ones so) or
// "random" (1 h to 30 days, the longest an intent may live: the worst
// case for a store kept in expiry order).
func BenchmarkRelayFlush(b *testing.B) {
	ctx := b.Context()
	now := time.Now()
	raw := make([]byte, 350)
	for _, c := range []struct {
		held, perFlush int
		expiry         string
	}{
		{0, 100, "ordered"}, {0, 200, "ordered"}, {2000, 100, "ordered"}, {2000, 200, "ordered"},
		{2000, 100, "random"}, {20000, 100, "ordered"}, {20000, 100, "random"},
	} {
		held, perFlush := c.held, c.perFlush
		b.Run(fmt.Sprintf("held=%d/batch=%d/expiry=%s", held, perFlush, c.expiry), func(b *testing.B) {
			s := openBolt(b, filepath.Join(b.TempDir(), "store.db"))
			rng := rand.New(rand.NewPCG(1, 2))
			var n uint64
			next := func() []store.LiveIntent {
				live := make([]store.LiveIntent, perFlush)
				for i := range live {
					n++
					seq := counterID(n)
					id := store.ID(sha256.Sum256(seq[:]))
					received := now.Add(time.Duration(n) * time.Millisecond)
					life := time.Hour
					if c.expiry == "random" {
						life += time.Duration(rng.Int64N(int64(intent.MaxLifetime - time.Hour)))
					}
					live[i] = store.LiveIntent{ID: id, Category: "electronics", Raw: raw, Expires: received.Add(life), Received: received}
				}
				return live
			}
			for range held / perFlush {
				if err := s.Apply(ctx, store.Batch{Live: next()}); err != nil {
					b.Fatal(err)
				}
			}
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			w0, wok := writtenBytes()
			c0 := processCPU()
			for b.Loop() {
				if err := s.Apply(ctx, store.Batch{Live: next()}); err != nil {
					b.Fatal(err)
				}
			}
			cpu := processCPU() - c0
			w1, _ := writtenBytes()
			runtime.ReadMemStats(&m1)
			if wok {
				b.ReportMetric(float64(w1-w0)/float64(b.N*perFlush), "written-B/intent")
			}
			b.ReportMetric(float64(cpu)/float64(b.N*perFlush), "cpu-ns/intent")
			b.ReportMetric(float64(m1.TotalAlloc-m0.TotalAlloc)/float64(b.N*perFlush), "B/intent")
		})
	}
}

// writtenBytes is what this process has passed to write system calls so
// far (/proc/self/io's wchar: a commit's pages, the disk's share of it);
// false where there is no such file.
func writtenBytes() (int64, bool) {
	data, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "wchar: "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}
