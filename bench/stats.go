package bench

import (
	"cmp"
	"runtime/metrics"
	"slices"
	"sync"
	"syscall"
	"time"
)

// cpuTime is the CPU time (user + system) this process has used so far: all
// the peers of a swarm, and the harness, which is the same for both systems.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// memSampler records the peak of the Go heap in use and of the memory the
// runtime got from the OS while it runs. Both are process-wide.
type memSampler struct {
	stop     chan struct{}
	done     sync.WaitGroup
	peakHeap uint64
	peakSys  uint64
}

// memSampleEvery is how often the sampler reads the runtime's statistics.
const memSampleEvery = 50 * time.Millisecond

// memMetrics are what the sampler reads: the heap in use is its objects
// and the unused part of its spans (MemStats.HeapInuse); total is Sys.
// runtime/metrics reads them without stopping the world, which
// ReadMemStats does: at 20 reads a second in each of 100 peer processes
// (ProcSwarm) that would be a load of its own.
var memMetrics = []string{"/memory/classes/heap/objects:bytes", "/memory/classes/heap/unused:bytes", "/memory/classes/total:bytes"}

func readMem(s []metrics.Sample) (heap, sys uint64) {
	metrics.Read(s)
	return s[0].Value.Uint64() + s[1].Value.Uint64(), s[2].Value.Uint64()
}

func startMemSampler() *memSampler {
	s := &memSampler{stop: make(chan struct{})}
	samples := make([]metrics.Sample, len(memMetrics))
	for i, name := range memMetrics {
		samples[i].Name = name
	}
	s.peakHeap, s.peakSys = readMem(samples)
	s.done.Go(func() {
		t := time.NewTicker(memSampleEvery)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
			heap, sys := readMem(samples)
			s.peakHeap = max(s.peakHeap, heap)
			s.peakSys = max(s.peakSys, sys)
		}
	})
	return s
}

// finish stops the sampler and returns the peaks.
func (s *memSampler) finish() (heap, sys uint64) {
	close(s.stop)
	s.done.Wait()
	return s.peakHeap, s.peakSys
}

// percentile returns the p-th percentile (0 < p <= 100) of sorted values by
// the nearest-rank method.
func percentile[T cmp.Ordered](sorted []T, p float64) T {
	var zero T
	if len(sorted) == 0 {
		return zero
	}
	rank := int(float64(len(sorted))*p/100+0.999999) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

// median returns the median of xs (the lower middle for an even count, so it
// is always one of the measured values).
func median[T cmp.Ordered](xs []T) T {
	var zero T
	if len(xs) == 0 {
		return zero
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}
