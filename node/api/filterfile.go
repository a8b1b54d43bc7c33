package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node"
)

// The vendor filter outlives the daemon: the Server keeps it in
// DataDir/filter.json, written at each change and applied at start.

// FilterFile is the name of the vendor filter's file in DataDir.
const FilterFile = "filter.json"

// loadFilter applies the stored filter to the node, if one is stored. A
// stored filter the node can no longer take (a category it no longer
// serves) is dropped, with a warning: the vendor sets a new one. A minimum
// price in no single currency, which older versions took, means nothing:
// only it is dropped, with a warning, and the rest of the filter applies,
// which is nearer what the vendor asked for than no filter at all.
func (s *Server) loadFilter() error {
	if s.cfg.DataDir == "" {
		return nil
	}
	path := filepath.Join(s.cfg.DataDir, FilterFile)
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("load vendor filter: %w", err)
	}
	var f node.Filter
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("load vendor filter %s: %w (fix or remove the file)", path, err)
	}
	if err := intent.CheckMinPriceInput(f.MinPrice, f.Currencies); err != nil {
		s.log.Warn("the stored vendor filter's minimum price is in no single currency; the filter applies without it until one is set", "path", path, "min_price", f.MinPrice, "currencies", f.Currencies)
		f.MinPrice = 0
	}
	if f, err = checkFilter(f, s.n.Categories()); err != nil {
		s.log.Warn("the stored vendor filter no longer fits this node; no filter applies until one is set", "path", path, "err", err)
		return nil
	}
	s.n.SetFilter(f)
	return nil
}

// saveFilter stores f, mode 0600.
func (s *Server) saveFilter(f node.Filter) error {
	if s.cfg.DataDir == "" {
		return nil
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(s.cfg.DataDir, FilterFile), append(data, '\n'))
}
