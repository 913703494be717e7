package ratelimit

import (
	"sync"
	"unsafe"
)

// A slab backs the header values ([]string of length and capacity 1) and
// the bytes of the field values of many responses, so that a request
// allocates nothing of its own. Every slot and byte is handed to one
// response only and never written again; a full slab is dropped, not
// recycled, and the garbage collector frees it once the last response
// holding a part of it is gone (the internal/slots scheme, with bytes).
type slab struct {
	vals [slabVals]string
	buf  [slabBytes]byte // after vals: the collector scans only the strings
	nv   int
	nb   int
}

const (
	slabVals  = 62
	slabBytes = 1040 // with vals and the counts: 2048 bytes, a size class (small: see slots.Size)
	// What a request may need: RateLimit-Policy, RateLimit, Retry-After
	// and the three legacy fields; one policy's values and an IPv6 key
	// fit in the bytes (longer values are allocated, see commit).
	reqVals  = 6
	reqBytes = 160
)

// slabPool hands out slabs with room for one request.
type slabPool struct{ p sync.Pool }

func (p *slabPool) get() *slab {
	s, _ := p.p.Get().(*slab)
	if s == nil || s.nv+reqVals > slabVals || s.nb+reqBytes > slabBytes {
		s = new(slab)
	}
	return s
}

func (p *slabPool) put(s *slab) { p.p.Put(s) }

// request is the per-request view of a slab, on admit's stack.
type request struct {
	s *slab
	// copyKey: key bytes are allocated, not carved out of the slab: a
	// Store other than MemoryStore may keep key strings, which must not
	// pin a slab each.
	copyKey bool
}

// take stores v in the slab's next value and returns it as a header value
// of this response's own.
func (q *request) take(v string) []string {
	s := q.s
	if s.nv == slabVals { // more values than reserved (unreachable): allocate
		return []string{v}
	}
	i := s.nv
	s.vals[i] = v
	s.nv++
	return s.vals[i : i+1 : i+1]
}

// appender returns the free bytes of the slab for appends; commit records
// what an append wrote there (if it outgrew them, the result lives
// elsewhere).
func (q *request) appender() []byte { return q.s.buf[q.s.nb:q.s.nb:slabBytes] }

func (q *request) commit(b []byte) string {
	s := q.s
	if len(b) > 0 && cap(b) == slabBytes-s.nb && &b[:1][0] == &s.buf[s.nb] {
		mark := s.nb
		s.nb += len(b)
		return unsafe.String(&s.buf[mark], len(b))
	}
	return string(b)
}

// commitKey is commit for a key.
func (q *request) commitKey(b []byte) string {
	if q.copyKey {
		return string(b)
	}
	return q.commit(b)
}
