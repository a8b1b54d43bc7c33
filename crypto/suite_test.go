package crypto_test

import (
	"testing"

	"github.com/intentcast/intentcast/crypto"
)

// suites are the supported suites, for tests that run over each.
var suites = []crypto.Suite{crypto.SuiteX25519, crypto.SuiteXWing}

func TestSuite(t *testing.T) {
	tests := []struct {
		suite crypto.Suite
		name  string
		valid bool
	}{
		{crypto.SuiteX25519, "x25519", true},
		{crypto.SuiteXWing, "xwing", true},
		{0, "Suite(0x0000)", false},
		{0x0010, "Suite(0x0010)", false}, // DHKEM(P-256): valid HPKE, not offered
		{0x0041, "Suite(0x0041)", false}, // ML-KEM-768 alone: not hybrid
		{0xffff, "Suite(0xffff)", false},
	}
	for _, tt := range tests {
		if got := tt.suite.String(); got != tt.name {
			t.Errorf("Suite(0x%04x).String() = %q, want %q", uint16(tt.suite), got, tt.name)
		}
		if got := tt.suite.Valid(); got != tt.valid {
			t.Errorf("%v.Valid() = %v, want %v", tt.suite, got, tt.valid)
		}
	}
}
