package store_test

import (
	"encoding/binary"
	"path/filepath"
	"testing"
	"time"

	"github.com/intentcast/intentcast/node/store"
)

// Benchmarks run on a real file in the test's temporary directory, so every
// write includes bbolt's fsync: the numbers depend on the disk.

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

// BenchmarkLiveIntents measures listing one category's 100 live intents (what
// late-joiner sync serves) in a store that also holds 100 intents of another
// category and 100 expired ones.
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
		list, err := s.LiveIntents(ctx, "electronics", now)
		if err != nil || len(list) != 100 {
			b.Fatalf("LiveIntents = %d intents, %v; want 100", len(list), err)
		}
	}
}
