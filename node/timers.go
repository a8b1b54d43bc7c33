package node

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// timers holds keys with a due time and runs a service's loop over them:
// the stem's fail-safe timers (one per message on its stem) and sync's
// planned sessions (one per peer). It is safe for concurrent use; its lock
// is taken inside its owner's, never around it.
type timers[K comparable] struct {
	max int // keys held at most; 0: no bound

	mu    sync.Mutex
	items dueHeap[K]
	index map[K]*dueItem[K]
	kick  chan struct{} // wakes the loop when a key became due earlier
}

func newTimers[K comparable](max int) *timers[K] {
	return &timers[K]{max: max, index: make(map[K]*dueItem[K]), kick: make(chan struct{}, 1)}
}

// set plans k at at, moving it if it is planned already. It reports false
// only when k is new and the bound is reached.
func (t *timers[K]) set(k K, at time.Time) bool {
	return t.plan(k, at, false)
}

// setEarlier plans k at at, or moves it there if it is planned later. It
// reports false only when k is new and the bound is reached.
func (t *timers[K]) setEarlier(k K, at time.Time) bool {
	return t.plan(k, at, true)
}

func (t *timers[K]) plan(k K, at time.Time, earlierOnly bool) bool {
	t.mu.Lock()
	if it, ok := t.index[k]; ok {
		if !earlierOnly || at.Before(it.due) {
			it.due = at
			heap.Fix(&t.items, it.idx)
		}
	} else {
		if t.max > 0 && len(t.index) >= t.max {
			t.mu.Unlock()
			return false
		}
		it := &dueItem[K]{key: k, due: at}
		heap.Push(&t.items, it)
		t.index[k] = it
	}
	t.mu.Unlock()
	select {
	case t.kick <- struct{}{}:
	default:
	}
	return true
}

// remove unplans k, if it is planned.
func (t *timers[K]) remove(k K) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if it, ok := t.index[k]; ok {
		heap.Remove(&t.items, it.idx)
		delete(t.index, k)
	}
}

// len is the number of keys planned.
func (t *timers[K]) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.index)
}

// until is the time until the next key is due (an hour if none).
func (t *timers[K]) until(now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.items) == 0 {
		return time.Hour
	}
	return max(t.items[0].due.Sub(now), 0)
}

// takeDue removes and returns the keys due by now, earliest first.
func (t *timers[K]) takeDue(now time.Time) []K {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []K
	for len(t.items) > 0 && !t.items[0].due.After(now) {
		it := heap.Pop(&t.items).(*dueItem[K])
		delete(t.index, it.key)
		out = append(out, it.key)
	}
	return out
}

// run calls fire for every key as it falls due, one at a time, and onTick
// on every tick of tick (nil: none), until ctx ends.
func (t *timers[K]) run(ctx context.Context, tick <-chan time.Time, onTick func(), fire func(context.Context, K)) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		timer.Reset(t.until(time.Now()))
		select {
		case <-ctx.Done():
			return
		case <-t.kick:
		case <-timer.C:
		case <-tick:
			onTick()
		}
		for _, k := range t.takeDue(time.Now()) {
			if ctx.Err() != nil {
				return
			}
			fire(ctx, k)
		}
	}
}

// dueItem is one planned key.
type dueItem[K comparable] struct {
	key K
	due time.Time
	idx int
}

// dueHeap is a min-heap of items by due time.
type dueHeap[K comparable] []*dueItem[K]

func (h dueHeap[K]) Len() int           { return len(h) }
func (h dueHeap[K]) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h dueHeap[K]) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx, h[j].idx = i, j
}
func (h *dueHeap[K]) Push(x any) {
	it := x.(*dueItem[K])
	it.idx = len(*h)
	*h = append(*h, it)
}
func (h *dueHeap[K]) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return it
}
