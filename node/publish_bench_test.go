package node

import "testing"

// BenchmarkPublishMinted is the node's own share of publishing an intent
// minted ahead of time (the bench's swarms publish so): its own check,
// the outbox, and the store's journal append and sync, on a node with no
// peers, where the intent stays queued (no router). cpu-ns/op is the
// whole process's CPU time per publish; ns/op is mostly the disk's sync.
func BenchmarkPublishMinted(b *testing.B) {
	n := benchNode(b)
	pool := &intentPool{b: b}
	ctx := b.Context()
	c0 := processCPU()
	for b.Loop() {
		in, keys := pool.getMinted()
		if err := n.PublishMinted(ctx, in, keys); err != nil {
			b.Fatal(err)
		}
	}
	cpu := processCPU() - c0 - pool.mintCPU
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
}
