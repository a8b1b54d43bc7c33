package bench

import (
	"runtime/metrics"
	"time"
)

// schedLatencies is the runtime's histogram of how long goroutines waited,
// runnable, for a P (the scheduler's slot) before they ran: process-wide, so
// in a one-process swarm it shows one node's Ps being held (a disk sync in
// progress, say) as the other nodes' gossip waiting.
const schedLatencies = "/sched/latencies:seconds"

// schedSample is a reading of schedLatencies; later minus earlier is the
// histogram of one run.
type schedSample struct {
	counts  []uint64
	buckets []float64
}

func readSched() schedSample {
	s := []metrics.Sample{{Name: schedLatencies}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64Histogram {
		return schedSample{}
	}
	h := s[0].Value.Float64Histogram()
	return schedSample{counts: append([]uint64(nil), h.Counts...), buckets: h.Buckets}
}

// percentile returns the q-th percentile (0-100) of the waits between two
// readings: the upper bound of the bucket it falls in (the runtime's
// buckets are a few percent wide), 0 if nothing ran.
func (s schedSample) percentile(earlier schedSample, q float64) time.Duration {
	if len(s.counts) == 0 || len(earlier.counts) != len(s.counts) {
		return 0
	}
	var total uint64
	for i := range s.counts {
		total += s.counts[i] - earlier.counts[i]
	}
	if total == 0 {
		return 0
	}
	rank := uint64(q / 100 * float64(total))
	var seen uint64
	for i := range s.counts {
		seen += s.counts[i] - earlier.counts[i]
		if seen > rank {
			upper := s.buckets[i+1]
			if upper > 1e9 { // the last bucket is unbounded
				upper = s.buckets[i]
			}
			return time.Duration(upper * float64(time.Second))
		}
	}
	return 0
}
