package ratelimit

import (
	"time"
	"unsafe"
)

// SetClock makes s read the time from now (a duration since any fixed
// origin) instead of the monotonic clock.
func SetClock(s *MemoryStore, now func() time.Duration) {
	s.clock = func() int64 { return int64(now()) }
}

// IPv4Port and PeerAddr expose the RemoteAddr parsers to the differential
// tests against netip.
var (
	IPv4Port = ipv4Port
	PeerAddr = peerAddr
)

// SlabSize is the size of a slab in bytes (TestSlabFillsItsSizeClass).
const SlabSize = unsafe.Sizeof(slab{})
