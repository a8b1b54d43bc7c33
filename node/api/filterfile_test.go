package api

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/intentcast/intentcast/node/api/client"
)

// TestFilterKeptAcrossRestarts: a filter set through the API is there
// again for a new Server on the same data dir (the daemon's restart); a
// stored filter the node cannot take is dropped, one whose minimum price
// is in no single currency applies without it, and a torn file is an
// error that names it.
func TestFilterKeptAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	first := startAPI(t, nodeOpts{dataDir: dir})
	want := client.Filter{Categories: []string{"electronics"}, Keywords: []string{"laptop"}, Regions: []string{"DE"}}
	if _, err := first.c.SetFilter(t.Context(), want); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, FilterFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("filter file: %v, %v; want mode 0600", fi, err)
	}

	again := startAPI(t, nodeOpts{dataDir: dir})
	got, err := again.c.Filter(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Categories, want.Categories) || !slices.Equal(got.Keywords, want.Keywords) || !slices.Equal(got.Regions, want.Regions) {
		t.Errorf("filter after a restart = %+v, want %+v", got, want)
	}

	// A category the node no longer serves: no filter, and the node starts.
	if err := os.WriteFile(filepath.Join(dir, FilterFile), []byte(`{"categories":["travel"]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := startAPI(t, nodeOpts{dataDir: dir}).c.Filter(t.Context()); err != nil || len(got.Categories) != 0 {
		t.Errorf("filter from a file naming a category not served = %+v, %v; want none", got, err)
	}

	// A minimum price in no single currency (older versions took one):
	// the filter applies without it.
	for _, stored := range []string{
		`{"categories":["electronics"],"min_price":1000}`,
		`{"categories":["electronics"],"min_price":1000,"currencies":["EUR","JPY"]}`,
	} {
		if err := os.WriteFile(filepath.Join(dir, FilterFile), []byte(stored), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := startAPI(t, nodeOpts{dataDir: dir}).c.Filter(t.Context())
		if err != nil || got.MinPrice != 0 || !slices.Equal(got.Categories, []string{"electronics"}) {
			t.Errorf("filter from %s = %+v, %v; want its categories, no min price", stored, got, err)
		}
	}

	// A torn file stops the Server with an error naming it.
	if err := os.WriteFile(filepath.Join(dir, FilterFile), []byte(`{"categ`), 0o600); err != nil {
		t.Fatal(err)
	}
	n := startAPI(t, nodeOpts{}).n
	if _, err := NewServer(n, ServerConfig{Token: testToken, DataDir: dir, Logger: testLogger(t)}); err == nil {
		t.Error("NewServer with a torn filter.json succeeded")
	}
}
