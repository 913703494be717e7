package idempotency

import "time"

// Internals reached by the black-box tests and fuzz targets.
var ParseKey = parseKey

// SetClock makes s read the time from now.
func (s *MemoryStore) SetClock(now func() time.Time) {
	s.mu.Lock()
	s.now = now
	s.mu.Unlock()
}
