package bench

import (
	"fmt"
	"io"
	"slices"
	"time"
)

// processStart stands in for the runtime's own start, to a few
// milliseconds: GODEBUG=gctrace=1 stamps each garbage-collection cycle
// with the time since then, and the latency log uses the same clock so
// that slow messages can be laid beside the cycles they fell in.
var processStart = time.Now()

// LatencyHeader names the columns of a latency log.
const LatencyHeader = "system\tN\tmessage\tsent_s\tcall_ms\tp50_ms\tp90_ms\tmax_ms\n"

// writeLatencies appends one line per message of a run to w: when it was
// sent (seconds since the process started), how long the publish call
// took, and the median, 90th percentile and largest of its deliveries.
// A message no peer delivered has no line.
func writeLatencies(w io.Writer, system string, rec *recorder, calls []int64) error {
	origin := processStart.UnixNano()
	var lat []int64
	for k := range rec.count {
		sent := rec.sent[k].Load()
		lat = lat[:0]
		for p := range rec.n {
			if at := rec.got[k*rec.n+p].Load(); at != 0 {
				lat = append(lat, at-sent)
			}
		}
		if len(lat) == 0 {
			continue
		}
		slices.Sort(lat)
		ms := func(ns int64) float64 { return float64(ns) / 1e6 }
		if _, err := fmt.Fprintf(w, "%s\t%d\t%d\t%.3f\t%.2f\t%.2f\t%.2f\t%.2f\n", system, rec.n, k,
			float64(sent-origin)/1e9, ms(calls[k]), ms(lat[len(lat)/2]), ms(lat[len(lat)*9/10]), ms(lat[len(lat)-1])); err != nil {
			return err
		}
	}
	return nil
}
