package node

import (
	"bytes"
	"runtime"
	"testing"
	"time"

	"github.com/intentcast/intentcast/intent"
)

// BenchmarkLiveSetRetained reports the heap the live set keeps per intent
// (retained-B/intent) once the message that brought it is gone: a relay
// holds every live intent of its categories for hours, and every
// garbage-collection cycle marks them all. Each intent arrives as gossip
// does, parsed from a buffer of its own and validated; wire-B/intent is
// its size on the wire, for scale.
func BenchmarkLiveSetRetained(b *testing.B) {
	const n = 2000
	pool := &intentPool{b: b}
	raws := make([][]byte, n)
	wire := 0
	for i := range raws {
		raws[i] = pool.get().Raw
		wire += len(raws[i])
	}
	now := time.Now()
	var retained float64
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		live := newLiveSet(n)
		for _, raw := range raws {
			in, err := intent.ParseIntent(bytes.Clone(raw))
			if err != nil {
				b.Fatal(err)
			}
			if err := in.Validate(now, testPolicy); err != nil {
				b.Fatal(err)
			}
			live.add(in, now)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		retained = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / n
		runtime.KeepAlive(live)
	}
	b.ReportMetric(retained, "retained-B/intent")
	b.ReportMetric(float64(wire)/n, "wire-B/intent")
}

// BenchmarkLiveSetGet is what reading a live intent costs: a cancel's or
// an accept's validator reads the intent it names (once per message, at
// every relay), the API and the vendor's listing read them too.
func BenchmarkLiveSetGet(b *testing.B) {
	pool := &intentPool{b: b}
	in := pool.get()
	live := newLiveSet(1)
	live.add(in, time.Now())
	for b.Loop() {
		if _, ok := live.get(in.ID); !ok {
			b.Fatal("not live")
		}
	}
}
