package bench

import (
	"fmt"
	"slices"
)

// spread is a figure over a run's repeats: its median and its range. The
// targets are judged on the median; the range says how far one repeat can
// be trusted on this machine. Count is how many figures it has: none for a
// system that was not run (Options.Systems), which prints as "–".
type spread struct {
	Med, Min, Max float64
	Count         int
}

func spreadOf(xs []float64) spread {
	if len(xs) == 0 {
		return spread{}
	}
	return spread{Med: median(xs), Min: slices.Min(xs), Max: slices.Max(xs), Count: len(xs)}
}

// String formats a ratio: "1.23 (1.10–1.40)", or the value alone for one repeat.
func (s spread) String() string {
	if s.Count == 0 {
		return "–"
	}
	if s.Min == s.Max {
		return fmt.Sprintf("%.2f", s.Med)
	}
	return fmt.Sprintf("%.2f (%.2f–%.2f)", s.Med, s.Min, s.Max)
}

// format formats a figure with f, e.g. msf for milliseconds.
func (s spread) format(f func(float64) string) string {
	if s.Count == 0 {
		return "–"
	}
	if s.Min == s.Max {
		return f(s.Med)
	}
	return fmt.Sprintf("%s (%s–%s)", f(s.Med), f(s.Min), f(s.Max))
}

// ratios pairs the repeats of two systems (repeat r of both ran on the same
// topology and traffic, one after the other) and returns a[r] / b[r] for
// every repeat where b is not zero.
func ratios[T any](a, b []T, get func(T) float64) []float64 {
	var out []float64
	for r := range min(len(a), len(b)) {
		if d := get(b[r]); d != 0 {
			out = append(out, get(a[r])/d)
		}
	}
	return out
}

// figures returns get of every element of xs.
func figures[T any](xs []T, get func(T) float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = get(x)
	}
	return out
}
