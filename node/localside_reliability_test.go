package node

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/intentcast/intentcast/intent"
)

// syncBuffer is a bytes.Buffer safe for a logger and a test at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestJunkPeerIsSeenAndLogged: a peer sends malformed gossip (many copies
// of one kind). The node must refuse it, log it at info with its reason's
// name once per interval (not once per message), and count it in /metrics
// by topic and reason; /metrics shows the sync and stem counters. Before,
// refusals were logged at debug with a numeric verdict and /metrics had no
// reasons or sync and stem figures (issue 11, local side).
func TestJunkPeerIsSeenAndLogged(t *testing.T) {
	var logs syncBuffer
	reg := prometheus.NewRegistry()
	cfg := nodeConfig(t)
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	cfg.Registerer = reg
	n := startNode(t, cfg)
	a := startSurvAttacker(t, "junk", false, []*Node{n})

	topic := intent.IntentTopic("electronics")
	const junkN = 50
	for range junkN {
		a.send(t.Context(), topic, append([]byte("not cbor "), randomBytes(40)...))
	}
	refused := n.metrics.rejectsC.WithLabelValues(topic, "reject", "malformed")
	eventually(t, 20*time.Second, "the junk is counted by topic and reason", func() bool {
		return testutil.ToFloat64(refused) >= 2
	})
	if lines := strings.Count(logs.String(), "reason=malformed"); lines != 1 {
		t.Errorf("%d info lines for the malformed junk, want 1 (rate-limited):\n%s", lines, logs.String())
	}
	if !strings.Contains(logs.String(), "level=INFO msg=\"gossip refused\"") {
		t.Errorf("refused gossip is not logged at info:\n%s", logs.String())
	}

	// The sync and stem counters are there, by name.
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				found[f.GetName()+"/"+l.GetValue()] = true
			}
		}
	}
	for _, want := range []string{"intentcast_sync_total/served", "intentcast_stem_total/fluffed"} {
		if !found[want] {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
