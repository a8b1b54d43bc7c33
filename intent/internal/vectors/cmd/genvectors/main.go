// Command genvectors regenerates intentcast's test vectors: it writes
// intent/testdata/vectors.json and the vectors section of docs/PROTOCOL.md,
// and, when the frozen HPKE output no longer matches what it seals, a fresh
// intent/internal/vectors/frozen.json. Run it from the module root:
//
//	go run ./intent/internal/vectors/cmd/genvectors
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/intentcast/intentcast/intent/internal/vectors"
)

func main() {
	root := flag.String("root", ".", "the module root")
	flag.Parse()
	if err := run(*root); err != nil {
		fmt.Fprintln(os.Stderr, "genvectors:", err)
		os.Exit(1)
	}
}

func run(root string) error {
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return fmt.Errorf("run from the module root or pass -root: %w", err)
	}
	set, err := vectors.Generate()
	if err != nil {
		return err
	}
	if set.Resealed {
		// The embedded frozen.json was stale, so this run sealed afresh;
		// keep those seals so every later run reproduces these bytes.
		b, err := set.Frozen()
		if err != nil {
			return err
		}
		if err := write(filepath.Join(root, "intent/internal/vectors/frozen.json"), b); err != nil {
			return err
		}
	}
	js, err := set.JSON()
	if err != nil {
		return err
	}
	if err := write(filepath.Join(root, "intent/testdata/vectors.json"), js); err != nil {
		return err
	}
	docPath := filepath.Join(root, "docs/PROTOCOL.md")
	doc, err := os.ReadFile(docPath)
	if err != nil {
		return err
	}
	doc, err = set.Splice(doc)
	if err != nil {
		return fmt.Errorf("%s: %w", docPath, err)
	}
	return write(docPath, doc)
}

func write(path string, b []byte) error {
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return err
	}
	fmt.Println("wrote", path)
	return nil
}
