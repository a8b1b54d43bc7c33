package store

import "errors"

// Sentinel errors. Stores wrap them with %w and say which record or file;
// test with errors.Is.
var (
	// ErrNotFound: the record asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("store is closed")
	// ErrCorrupt: a stored record, index entry or file cannot be decoded.
	ErrCorrupt = errors.New("store record is corrupt")
	// ErrInvalid: a record given to a Put method breaks the store's contract
	// (an enum field outside its defined values); nothing was written.
	ErrInvalid = errors.New("invalid record")
	// ErrLocked: another process holds the store open.
	ErrLocked = errors.New("store is locked by another process")
	// ErrNewerSchema: the store was written by a newer intentcast whose
	// layout this build does not know; upgrade rather than risk damaging it.
	ErrNewerSchema = errors.New("store was written by a newer version of intentcast")
)
