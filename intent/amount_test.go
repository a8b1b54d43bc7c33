package intent

import (
	"strings"
	"testing"
)

func TestParseAmount(t *testing.T) {
	tests := []struct {
		in, currency string
		want         uint64
		err          string // substring of the error; "" means success
	}{
		{"1200.50", "EUR", 120050, ""},
		{"1200.5", "EUR", 120050, ""},
		{"1200", "EUR", 120000, ""},
		{"0.01", "USD", 1, ""},
		{"0", "USD", 0, ""},
		{"007.10", "EUR", 710, ""},
		{"1200", "JPY", 1200, ""},
		{"1.5", "JPY", 0, "1.5 has 1 decimal; JPY has no decimals"},
		{"1.234", "KWD", 1234, ""},
		{"1.2345", "KWD", 0, "1.2345 has 4 decimals; KWD has at most 3 decimals"},
		{"1.234", "EUR", 0, "1.234 has 3 decimals; EUR has at most 2 decimals"},
		{"10.999", "", 0, "10.999 has 3 decimals; an amount has at most 2 decimals"},
		{"1.5", "", 150, ""}, // no currency: 2 decimals
		{"abc", "EUR", 0, "digits and at most one '.'"},
		{"", "EUR", 0, "Give an amount, such as 1200.50"},
		{"-5", "EUR", 0, "cannot be negative"},
		{"-5.50", "EUR", 0, "cannot be negative"},
		{"+5", "EUR", 0, "no sign"},
		{"1,200.00", "EUR", 0, "thousands separators"},
		{"1 200", "EUR", 0, "thousands separators"},
		{"1e3", "EUR", 0, "digits and at most one '.'"},
		{".5", "EUR", 0, "both sides"},
		{"5.", "EUR", 0, "both sides"},
		{"1.2.3", "EUR", 0, "digits and at most one '.'"},
		{"10000000000000.00", "EUR", MaxPrice, ""},
		{"10000000000000.01", "EUR", 0, "too large"},
		{"99999999999999999999999", "EUR", 0, "too large"},
	}
	for _, tt := range tests {
		got, err := ParseAmount(tt.in, tt.currency)
		if tt.err == "" {
			if err != nil || got != tt.want {
				t.Errorf("ParseAmount(%q, %s) = %d, %v; want %d", tt.in, tt.currency, got, err, tt.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("ParseAmount(%q, %s) = %d, %v; want an error containing %q", tt.in, tt.currency, got, err, tt.err)
		}
	}
}

func TestFormatAmount(t *testing.T) {
	tests := []struct {
		minor    uint64
		currency string
		want     string
	}{
		{120050, "EUR", "1200.50"},
		{120000, "EUR", "1200.00"},
		{5, "EUR", "0.05"},
		{0, "EUR", "0.00"},
		{1200, "JPY", "1200"},
		{0, "JPY", "0"},
		{1234, "KWD", "1.234"},
		{7, "KWD", "0.007"},
		{MaxPrice, "USD", "10000000000000.00"},
	}
	for _, tt := range tests {
		if got := FormatAmount(tt.minor, tt.currency); got != tt.want {
			t.Errorf("FormatAmount(%d, %s) = %q; want %q", tt.minor, tt.currency, got, tt.want)
		}
		// Every formatted amount parses back to itself.
		if back, err := ParseAmount(tt.want, tt.currency); err != nil || back != tt.minor {
			t.Errorf("ParseAmount(FormatAmount(%d, %s)) = %d, %v", tt.minor, tt.currency, back, err)
		}
	}
}
