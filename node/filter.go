package node

import (
	"slices"
	"strings"

	"github.com/intentcast/intentcast/intent"
)

// Filter is a vendor's local view of the intents of its categories. Topics
// are coarse on purpose (they are the customers' anonymity sets); the finer
// choice happens here, on the vendor's own node, and nobody else learns it.
// The zero Filter matches everything.
type Filter struct {
	Categories []string `json:"categories,omitempty"` // empty: every category the node serves
	Path       []string `json:"path,omitempty"`       // sub-category prefix, e.g. ["laptops"]
	Regions    []string `json:"regions,omitempty"`    // regions served; an intent without a region matches any
	Keywords   []string `json:"keywords,omitempty"`   // any of them, case-insensitive, in the text or path
	// MinPrice ignores intents whose ceiling is below it, in minor units of
	// the filter's one currency: a filter with a MinPrice takes exactly one
	// currency (intent.CheckMinPriceInput), as amounts in different
	// currencies cannot be compared.
	MinPrice   uint64   `json:"min_price,omitempty"`
	Currencies []string `json:"currencies,omitempty"` // empty: any
}

// Match reports whether an intent passes the filter.
func (f Filter) Match(in *intent.Intent) bool {
	if len(f.Categories) > 0 && !slices.Contains(f.Categories, in.Category) {
		return false
	}
	if len(f.Path) > len(in.Path) || !slices.Equal(f.Path, in.Path[:len(f.Path)]) {
		return false
	}
	if len(f.Regions) > 0 && in.Want.Region != "" && !slices.ContainsFunc(f.Regions, func(r string) bool {
		// "US" serves "US-CA"; "US-CA" serves only itself.
		return r == in.Want.Region || strings.HasPrefix(in.Want.Region, r+"-")
	}) {
		return false
	}
	if len(f.Currencies) > 0 && !slices.Contains(f.Currencies, in.Want.Currency) {
		return false
	}
	// Only intents in the one currency of a MinPrice are left to compare
	// with it.
	if in.Want.MaxPrice < f.MinPrice {
		return false
	}
	if len(f.Keywords) > 0 {
		hay := strings.ToLower(in.Text + " " + strings.Join(in.Path, " "))
		if !slices.ContainsFunc(f.Keywords, func(k string) bool { return strings.Contains(hay, strings.ToLower(k)) }) {
			return false
		}
	}
	return true
}
