package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intentcast/intentcast/node/api/client"
)

func TestExampleRules(t *testing.T) {
	rules, err := LoadRules("rules.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	laptop := client.IntentView{ID: strings.Repeat("a", 64), Category: "electronics", Path: []string{"laptops"},
		Text: "14-inch laptop", MaxPrice: "1200.00", MaxPriceMinor: 120000, Currency: "EUR", Region: "DE"}
	r := &rules.Rules[0]
	if !r.Match(laptop) {
		t.Fatal("rule 1 does not match a laptop intent")
	}
	req, err := r.Offer(laptop)
	if err != nil {
		t.Fatal(err)
	}
	if *req.PriceMinor != 110400 || !strings.Contains(req.Text, "1104.00 EUR") || !strings.Contains(req.Text, "to DE") {
		t.Errorf("offer = %d %q", *req.PriceMinor, req.Text)
	}
	cheap := laptop
	cheap.MaxPriceMinor, cheap.MaxPrice = 30000, "300.00"
	if _, err := r.Offer(cheap); err == nil || !strings.Contains(err.Error(), "floor") {
		t.Errorf("an offer below the floor: %v", err)
	}
	phone := client.IntentView{Category: "electronics", Text: "a phone", MaxPriceMinor: 50000, MaxPrice: "500.00", Currency: "USD"}
	if rules.Rules[0].Match(phone) || !rules.Rules[1].Match(phone) {
		t.Error("a phone intent should fall through to rule 2")
	}
}

func TestLoadRulesErrors(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"a.toml": "[[rule]]\ncategory = \"home\"\ndiscount = 5\n",              // misspelt key
		"b.json": `{"rules": [{"category": "home", "discount_percent": 120}]}`, // discount out of range
		"c.yaml": "rules: []",
	} {
		path := filepath.Join(dir, name)
		writeFile(t, path, body)
		if _, err := LoadRules(path); err == nil {
			t.Errorf("LoadRules(%s) accepted %q", name, body)
		}
	}
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}
