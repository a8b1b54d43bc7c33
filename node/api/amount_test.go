package api

import (
	"strings"
	"testing"

	"github.com/intentcast/intentcast/intent"
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
		{"1.5", "JPY", 0, "no minor unit"},
		{"1.234", "KWD", 1234, ""},
		{"1.2345", "KWD", 0, "4 decimals, but KWD has 3"},
		{"1.234", "EUR", 0, "3 decimals, but EUR has 2"},
		{"1.5", "XYZ", 150, ""}, // unknown codes have 2 decimals
		{"abc", "EUR", 0, "not a number"},
		{"", "EUR", 0, "empty"},
		{"-5", "EUR", 0, "not a number"},
		{"+5", "EUR", 0, "not a number"},
		{"1,200.00", "EUR", 0, "not a number"},
		{"1 200", "EUR", 0, "not a number"},
		{"1e3", "EUR", 0, "not a number"},
		{".5", "EUR", 0, "both sides"},
		{"5.", "EUR", 0, "both sides"},
		{"1.2.3", "EUR", 0, "not a number"},
		{"10000000000000.00", "EUR", intent.MaxPrice, ""},
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
		{intent.MaxPrice, "USD", "10000000000000.00"},
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

func TestAmountFields(t *testing.T) {
	minor := uint64(500)
	if v, err := amount("", &minor, "EUR", "price"); err != nil || v != 500 {
		t.Errorf("minor only: %d, %v", v, err)
	}
	if v, err := amount("5.00", nil, "EUR", "price"); err != nil || v != 500 {
		t.Errorf("major only: %d, %v", v, err)
	}
	if _, err := amount("5.00", &minor, "EUR", "price"); err == nil || !strings.Contains(err.Error(), "not both") {
		t.Errorf("both: %v; want an error saying not both", err)
	}
	if _, err := amount("", nil, "EUR", "max_price"); err == nil || !strings.Contains(err.Error(), "max_price is required") {
		t.Errorf("neither: %v; want an error naming max_price", err)
	}
	big := uint64(intent.MaxPrice) + 1
	if _, err := amount("", &big, "EUR", "price"); err == nil {
		t.Errorf("minor over the maximum: no error")
	}
}
