package bench

import (
	"context"
	"time"
)

// phaseStats is what a load run's timed phase cost its peers.
type phaseStats struct {
	CPU               time.Duration // user + system CPU time
	PeakHeap, PeakSys uint64        // peak Go heap in use and runtime Sys: of the process, or summed over peer processes
	SchedP99          time.Duration // 99th percentile wait for a P (schedlat.go)
	GC                gcWork        // allocation and collections (gcwork.go): of the process, or summed over peer processes
}

// phaseMeter measures the timed phase of a load run. A swarm in this
// process is measured by selfMeter; a swarm whose peers are processes of
// their own (ProcSwarm) measures them itself, as the Swarm's own
// phaseMeter.
type phaseMeter interface {
	beginPhase(ctx context.Context) error
	endPhase(ctx context.Context) (phaseStats, error)
}

// selfMeter measures this process: every peer of an in-process swarm and
// the harness, which is the same for every system.
type selfMeter struct {
	cpu   time.Duration
	sched schedSample
	gc    gcWork
	mem   *memSampler
}

func (m *selfMeter) beginPhase(context.Context) error {
	if m.mem != nil {
		m.mem.finish() // a phase that was begun and never ended
	}
	m.mem = startMemSampler()
	m.cpu, m.sched, m.gc = cpuTime(), readSched(), readGCWork()
	return nil
}

func (m *selfMeter) endPhase(context.Context) (phaseStats, error) {
	st := phaseStats{CPU: cpuTime() - m.cpu, SchedP99: readSched().percentile(m.sched, 99), GC: readGCWork().since(m.gc)}
	if m.mem != nil {
		st.PeakHeap, st.PeakSys = m.mem.finish()
		m.mem = nil
	}
	return st, nil
}
