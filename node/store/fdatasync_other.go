//go:build !linux

package store

import "os"

// fdatasync is f.Sync where there is no fdatasync.
func fdatasync(f *os.File) error { return f.Sync() }

// syncer is plain fdatasync where there is no Linux AIO.
type syncer struct{}

func newSyncer() *syncer                   { return &syncer{} }
func (*syncer) fdatasync(f *os.File) error { return fdatasync(f) }
func (*syncer) close() error               { return nil }
