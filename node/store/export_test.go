package store

// BreakJournal puts s's journal in the state a failed sync leaves it in:
// every later append fails with err. A disk that fails fdatasync cannot
// be had on demand, and the fallback it leads to must still be tested.
func BreakJournal(s *Bolt, err error) {
	s.journal.mu.Lock()
	defer s.journal.mu.Unlock()
	s.journal.broken = err
}
