package bench

import (
	"cmp"
	"runtime"
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
	stop      chan struct{}
	done      sync.WaitGroup
	peakHeap  uint64
	peakSys   uint64
	startHeap uint64
}

// memSampleEvery is how often the sampler reads the runtime's statistics
// (ReadMemStats stops the world for a few microseconds).
const memSampleEvery = 50 * time.Millisecond

func startMemSampler() *memSampler {
	s := &memSampler{stop: make(chan struct{})}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s.startHeap, s.peakHeap, s.peakSys = ms.HeapInuse, ms.HeapInuse, ms.Sys
	s.done.Go(func() {
		t := time.NewTicker(memSampleEvery)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
			runtime.ReadMemStats(&ms)
			s.peakHeap = max(s.peakHeap, ms.HeapInuse)
			s.peakSys = max(s.peakSys, ms.Sys)
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
