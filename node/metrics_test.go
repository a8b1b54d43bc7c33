package node

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestMetricsShareARegistry checks that two nodes on one registry count
// into the registered counters, not into unregistered copies.
func TestMetricsShareARegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	a, b := newMetrics(reg), newMetrics(reg)
	a.published(metricIntent)
	b.published(metricIntent)
	if got := testutil.ToFloat64(a.publishedC.WithLabelValues(metricIntent)); got != 2 {
		t.Fatalf("registered counter = %v, want 2 (one from each node)", got)
	}
}
