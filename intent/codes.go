package intent

import (
	_ "embed"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// The ISO code lists a person's input is held to (Draft.Check). The wire
// rules (CheckCurrency, CheckRegion) only check a code's shape: a relay
// that refused a code its list does not know yet would split the network
// each time ISO adds one.

//go:embed iso4217.txt
var iso4217 string

//go:embed iso3166.txt
var iso3166 string

// currencyDecimals maps every ISO 4217 code that has a minor unit to its
// number of decimals.
var currencyDecimals = func() map[string]int {
	m := map[string]int{}
	for code, rest := range codeLines(iso4217) {
		d, _, _ := strings.Cut(rest, " ")
		n, err := strconv.Atoi(d)
		if err != nil {
			panic("intent: iso4217.txt: " + code + ": " + err.Error())
		}
		m[code] = n
	}
	return m
}()

// regionNames maps every ISO 3166-1 alpha-2 country code to its name and
// every ISO 3166-2 subdivision code to "".
var regionNames = func() map[string]string {
	m := map[string]string{}
	for code, name := range codeLines(iso3166) {
		m[code] = name
	}
	return m
}()

// codeLines yields the code and the rest of each line of an embedded
// table, skipping comments.
func codeLines(table string) func(yield func(code, rest string) bool) {
	return func(yield func(string, string) bool) {
		for line := range strings.Lines(table) {
			line = strings.TrimSpace(line)
			if line == "" || line[0] == '#' {
				continue
			}
			code, rest, _ := strings.Cut(line, " ")
			if !yield(code, rest) {
				return
			}
		}
	}
}

// KnownCurrency reports whether code is an ISO 4217 currency code with a
// minor unit, in capitals ("EUR").
func KnownCurrency(code string) bool {
	_, ok := currencyDecimals[code]
	return ok
}

// CurrencyDecimals returns the number of decimals of code's minor unit
// (EUR 2, JPY 0, KWD 3). An unknown code gets 2: prices in it are only
// shown, never made, by this node (Draft.Check refuses them).
func CurrencyDecimals(code string) int {
	if d, ok := currencyDecimals[code]; ok {
		return d
	}
	return 2
}

// KnownRegion reports whether code is an ISO 3166-1 alpha-2 country code
// ("DE") or an ISO 3166-2 subdivision code ("US-CA"), in capitals.
func KnownRegion(code string) bool {
	_, ok := regionNames[code]
	return ok
}

// RegionName returns the name of an ISO 3166-1 country code, or "".
func RegionName(code string) string { return regionNames[code] }

// Currencies lists the known currency codes, sorted.
func Currencies() []string {
	return slices.Sorted(maps.Keys(currencyDecimals))
}
