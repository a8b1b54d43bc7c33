package bench

import "runtime/metrics"

// gcWork is what drives the collector over a run: bytes allocated and
// cycles completed. In a one-process swarm every cycle's mark takes a
// quarter of the cores from all the peers at once, so the p99 of a run
// moves with how many cycles fell in it and how long their marks took
// (which grows with what the peers keep: BENCHMARKS.md, "What a node
// keeps per message"); allocation sets how often a cycle comes and how
// much marking the allocating goroutines are made to do.
type gcWork struct {
	Allocated uint64 // bytes, /gc/heap/allocs:bytes
	Cycles    uint64 // /gc/cycles/total:gc-cycles
}

func readGCWork() gcWork {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}, {Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	return gcWork{Allocated: s[0].Value.Uint64(), Cycles: s[1].Value.Uint64()}
}

// since returns the work between an earlier reading and w.
func (w gcWork) since(earlier gcWork) gcWork {
	return gcWork{Allocated: w.Allocated - earlier.Allocated, Cycles: w.Cycles - earlier.Cycles}
}
