package node

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"syscall"
	"testing"
	"time"

	"github.com/intentcast/intentcast/intent"
)

// The node-side cost of relaying intents, apart from gossip: what a node
// does per fresh intent on top of the router (validator, delivery, the
// batched store writes they cause). Run with
//
//	go test -run x -bench 'Validate|Relay' -benchmem ./node/
//
// bench/ puts the same node beside raw gossipsub on a real swarm; these
// isolate the node's own share, with little noise, for before/after
// comparisons (docs/BENCHMARKS.md, "Node").

// benchNode starts a node with no peers.
func benchNode(b *testing.B) *Node {
	b.Helper()
	n, err := New(b.Context(), Config{
		ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"},
		DisableMDNS: true,
		DataDir:     b.TempDir(),
		Policy:      testPolicy,
		Categories:  testCategories,
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { n.Close() })
	return n
}

// intentPool hands out distinct fresh intents, minting more with the timer
// stopped when it runs out: a node accepts each intent once.
type intentPool struct {
	b       *testing.B
	ins     []*intent.SignedIntent
	keys    []intent.Keys
	next    int
	k       int
	mintCPU time.Duration // process CPU time spent minting
}

func (p *intentPool) get() *intent.SignedIntent {
	in, _ := p.getMinted()
	return in
}

// getMinted is get with the intent's keys, as its author holds them.
func (p *intentPool) getMinted() (*intent.SignedIntent, intent.Keys) {
	if p.next == len(p.ins) {
		p.b.StopTimer()
		c0 := processCPU()
		p.ins, p.keys, p.next = p.ins[:0], p.keys[:0], 0
		now := time.Now()
		for range 512 {
			d := laptopDraft(now)
			d.Text = fmt.Sprintf("%s, request %d", d.Text, p.k)
			d.Work = testPolicy.MinWork
			p.k++
			in, keys, err := intent.NewIntent(context.Background(), d, nil)
			if err != nil {
				p.b.Fatal(err)
			}
			p.ins, p.keys = append(p.ins, in), append(p.keys, keys)
		}
		p.mintCPU += processCPU() - c0
		p.b.StartTimer()
	}
	in, keys := p.ins[p.next], p.keys[p.next]
	p.next++
	return in, keys
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkValidateNodeCheck is the node's gossip validator on one fresh
// intent: parse, schema, work, signature, time window, tombstone and replay
// lookups, live set.
func BenchmarkValidateNodeCheck(b *testing.B) {
	n := benchNode(b)
	pool := &intentPool{b: b}
	ctx := b.Context()
	for b.Loop() {
		in := pool.get()
		if _, err := n.check(ctx, "electronics", false, in.Raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRelayIntent is everything the node does for a fresh intent it
// relays: the validator, delivery (event, live-intent record) and the
// batched store write both cause, flushed every `batch` intents, as the
// node's flush loop does once per flushEvery: a relay seeing r intents/s
// writes batches of r * flushEvery (10 and 40: 10 intents a second, one
// second's worth, the quiet wait before 2026-12-04, and four seconds',
// now). cpu-ns/op is the whole process's CPU time per intent.
func BenchmarkRelayIntent(b *testing.B) {
	for _, batch := range []int{10, 40, 200} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			n := benchNode(b)
			pool := &intentPool{b: b}
			ctx := b.Context()
			sub := n.Subscribe()
			defer sub.Close()
			go func() {
				for range sub.C {
				}
			}()
			c0 := processCPU()
			i := 0
			for b.Loop() {
				in := pool.get()
				m, err := n.check(ctx, "electronics", false, in.Raw)
				if err != nil {
					b.Fatal(err)
				}
				n.deliver(ctx, m)
				if i++; i%batch == 0 {
					n.replay.flush(ctx)
				}
			}
			n.replay.flush(ctx)
			cpu := processCPU() - c0 - pool.mintCPU
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}
