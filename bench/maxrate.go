package bench

import (
	"context"
	"math"
	"time"
)

// MaxRateOptions control the search for the highest sustained rate.
type MaxRateOptions struct {
	Start    float64       // first rate tried, messages/s
	Factor   float64       // the ladder's step (2 doubles the rate)
	Refine   int           // bisection steps (geometric) between the last pass and the first fail
	Cap      float64       // highest rate tried
	Step     time.Duration // how long each rate is offered
	MinCount int           // fewest messages per step
	Seed     uint64
	// Progress, if set, is told each step's result.
	Progress func(RateStep)
}

// RateStep is one rate tried.
type RateStep struct {
	Rate   float64
	Pass   bool
	Result Result
}

// MaxRateResult is the highest rate a swarm sustained and every step tried.
type MaxRateResult struct {
	System string
	N      int
	Repeat int     // which of the suite's repeats (0 outside a suite)
	Max    float64 // highest passing rate; 0 if even Start failed
	Fail   float64 // lowest failing rate; 0 if Cap passed
	Steps  []RateStep
}

// SustainedOnTime is the delivery a rate must reach to count as sustained:
// 99% of (message, peer) pairs delivered within Load.Deadline (2 s) of
// publication. A deadline, not eventual delivery: a system that falls behind
// its offered rate delivers everything eventually, from an ever longer queue.
const SustainedOnTime = 0.99

// sustained reports whether a run kept up: on-time delivery, and a publisher
// that managed to offer the rate (a saturated process cannot).
func sustained(r Result) bool {
	return r.OnTimeRatio >= SustainedOnTime && r.SendRate >= 0.95*r.Rate && r.PublishErrors == 0
}

// MaxRate steps the offered rate up by Factor from Start until a rate is
// not sustained (down from Start, if Start is not), then bisects between
// the last rate that was and the first that was not. Between steps it lets the swarm drain its backlog.
func MaxRate(ctx context.Context, sw Swarm, o MaxRateOptions) (MaxRateResult, error) {
	out := MaxRateResult{System: sw.System(), N: sw.Size()}
	try := func(rate float64) (bool, error) {
		quiesce(ctx, sw, 15*time.Second)
		count := max(o.MinCount, int(rate*o.Step.Seconds()))
		r, err := RunLoad(ctx, sw, Load{Rate: rate, Count: count, Drain: 3 * time.Second, Seed: o.Seed + uint64(len(out.Steps))})
		if err != nil {
			return false, err
		}
		step := RateStep{Rate: rate, Pass: sustained(r), Result: r}
		out.Steps = append(out.Steps, step)
		if o.Progress != nil {
			o.Progress(step)
		}
		return step.Pass, nil
	}
	for rate := o.Start; rate <= o.Cap; rate *= o.Factor {
		pass, err := try(rate)
		if err != nil {
			return out, err
		}
		if !pass {
			out.Fail = rate
			break
		}
		out.Max = rate
	}
	// A start that fails is stepped down until a rate passes (at most
	// four steps): a search that starts near an earlier result can start
	// just above what this one sustains.
	for rate := out.Fail / o.Factor; out.Max == 0 && out.Fail > 0 && rate >= o.Start/16; rate /= o.Factor {
		pass, err := try(math.Round(rate))
		if err != nil {
			return out, err
		}
		if pass {
			out.Max = math.Round(rate)
		} else {
			out.Fail = math.Round(rate)
		}
	}
	for range o.Refine {
		if out.Fail == 0 || out.Max == 0 {
			break
		}
		mid := math.Round(math.Sqrt(out.Max * out.Fail))
		pass, err := try(mid)
		if err != nil {
			return out, err
		}
		if pass {
			out.Max = mid
		} else {
			out.Fail = mid
		}
	}
	return out, nil
}
