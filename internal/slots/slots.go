// Package slots hands out header values ([]string of length and capacity 1)
// that no other response shares, without allocating per request.
//
// A middleware that puts a precomputed []string straight into a response
// header map shares its backing array with every other response: an outer
// layer that edits the value in place (h[k][0] = "...") then changes what
// the next request gets. Copying the value into a fresh slice costs an
// allocation per header. A Pool instead carves the values out of large
// arrays (Slab): every slot is used by one response only and never reused,
// and a slab is dropped, not recycled, once it is full, so the garbage
// collector frees it when the last response that holds one of its slots is
// gone. The cost is one allocation of Size strings per Size values handed
// out (amortized 0 allocations per request).
package slots

import "sync"

// Size is the number of values in one slab: with its count, 2 KiB, a size
// class. Small, because what a slab costs is not its allocation but what it
// keeps alive: the slab each P's pool holds (and its victim after a GC) and
// every slab some response in flight still holds a slot of are live heap
// at each collection, which paces the collector. With 512 values (8 KiB)
// the slabs of security, cors and Vary were ≈ 46 KiB of the live heap under
// load in the bench chain, which ran 7 % more GC cycles per request than the
// peers' chain; with 127 values ≈ 18 KiB and 1.7 % (bench/README.md, "Slab
// size").
const Size = 127

// Slab is a block of values; Take hands them out one by one.
type Slab struct {
	vals [Size]string
	n    int
}

// Pool keeps partly used slabs for reuse across requests. The zero Pool is
// ready to use and safe for concurrent use.
type Pool struct{ p sync.Pool }

// Get returns a slab with at least n free values (n ≤ Size). Give it back
// with Put when done taking values.
func (p *Pool) Get(n int) *Slab {
	s, _ := p.p.Get().(*Slab)
	if s == nil || s.n+n > Size {
		s = new(Slab)
	}
	return s
}

// Put returns s to the pool.
func (p *Pool) Put(s *Slab) { p.p.Put(s) }

// Take stores v in the next free value and returns it as a slice of length
// and capacity 1, so an append by its holder copies instead of reaching the
// neighbouring values. The caller must have reserved room with Get.
func (s *Slab) Take(v string) []string {
	i := s.n
	s.vals[i] = v
	s.n++
	return s.vals[i : i+1 : i+1]
}

// TakeAll stores vs in consecutive free values and returns them as one slice
// whose capacity is its length. The caller must have reserved room with Get.
func (s *Slab) TakeAll(vs []string) []string {
	i := s.n
	s.n += copy(s.vals[i:], vs)
	return s.vals[i:s.n:s.n]
}

// TakeAppend stores vs and then v in consecutive free values and returns
// them as one slice whose capacity is its length (append(vs, v) into a
// value no other response shares). The caller must have reserved
// len(vs)+1 values with Get.
func (s *Slab) TakeAppend(vs []string, v string) []string {
	i := s.n
	s.n += copy(s.vals[i:], vs)
	s.vals[s.n] = v
	s.n++
	return s.vals[i:s.n:s.n]
}

// Free reports how many values s has left.
func (s *Slab) Free() int { return Size - s.n }
