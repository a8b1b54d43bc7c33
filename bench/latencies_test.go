package bench

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestWriteLatencies checks a latency log's lines against a run made up
// by hand: one line per delivered message, in milliseconds, on the
// process's clock.
func TestWriteLatencies(t *testing.T) {
	rec := newRecorder(4, 3, rand.New(rand.NewPCG(1, 1)))
	sent := processStart.UnixNano() + 2e9 // 2 s into the process
	rec.sent[0].Store(sent)
	rec.sent[1].Store(sent + 1e6)
	for p, ms := range []int64{1, 2, 3, 40} {
		rec.delivered(p, 0, sent+ms*1e6)
	}
	// Message 2 was never sent or delivered; message 1 reached one peer.
	other := (rec.from[1] + 1) % 4
	rec.delivered(other, 1, sent+1e6+5e6)

	var b bytes.Buffer
	if err := writeLatencies(&b, "sys", rec, []int64{7e5, 3e5, 0}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want one per delivered message (2):\n%s", len(lines), b.String())
	}
	// Message 0: the publisher's own delivery is not counted, so three of
	// the four remain.
	var want []string
	var got0 []float64
	for p, ms := range []float64{1, 2, 3, 40} {
		if p != rec.from[0] {
			got0 = append(got0, ms)
		}
	}
	want = append(want, fmt.Sprintf("sys\t4\t0\t2.000\t0.70\t%.2f\t%.2f\t%.2f", got0[1], got0[2], got0[2]))
	want = append(want, "sys\t4\t1\t2.001\t0.30\t5.00\t5.00\t5.00")
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("line %d = %q, want %q", i, lines[i], want[i])
		}
	}
	if got := strings.Count(LatencyHeader, "\t") + 1; got != strings.Count(lines[0], "\t")+1 {
		t.Errorf("the header has %d columns, a line %d", got, strings.Count(lines[0], "\t")+1)
	}
}
