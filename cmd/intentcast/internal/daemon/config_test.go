package daemon

import "testing"

func TestZeroConfigWorks(t *testing.T) {
	if err := (Config{}).withDefaults().check(); err != nil {
		t.Fatalf("the zero Config does not check: %v", err)
	}
}
