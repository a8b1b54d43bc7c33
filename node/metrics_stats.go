package node

import (
	"reflect"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// statsCollector shows the node's sync and stem counters (SyncStats,
// StemStats) in the metrics, read at each scrape: one counter family per
// protocol, a label per field (lower-case field name).
type statsCollector struct {
	n          *Node
	sync, stem *prometheus.Desc
}

func newStatsCollector(n *Node) *statsCollector {
	return &statsCollector{
		n: n,
		sync: prometheus.NewDesc("intentcast_sync_total",
			"Sync (/intentcast/sync/1, /2 and /3) counters, as SyncStats names them.", []string{"counter"}, nil),
		stem: prometheus.NewDesc("intentcast_stem_total",
			"Stem relay (/intentcast/stem/1) counters, as StemStats names them.", []string{"counter"}, nil),
	}
}

func (c *statsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.sync; ch <- c.stem }

func (c *statsCollector) Collect(ch chan<- prometheus.Metric) {
	emit := func(d *prometheus.Desc, stats any) {
		v := reflect.ValueOf(stats)
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if f.IsExported() && v.Field(i).CanInt() {
				ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v.Field(i).Int()), strings.ToLower(f.Name))
			}
		}
	}
	emit(c.sync, c.n.SyncStats())
	emit(c.stem, c.n.StemStats())
}
