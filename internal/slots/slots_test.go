package slots_test

import (
	"testing"
	"unsafe"

	"github.com/jiec/httpmw/internal/slots"
)

func TestSlotsAreNeverShared(t *testing.T) {
	var p slots.Pool
	seen := map[*string]bool{}
	for range 3 * slots.Size {
		s := p.Get(3)
		a, b := s.Take("a"), s.TakeAll([]string{"b", "c"})
		p.Put(s)
		if len(a) != 1 || cap(a) != 1 || len(b) != 2 || cap(b) != 2 || a[0] != "a" || b[1] != "c" {
			t.Fatalf("Take = %q (cap %d), TakeAll = %q (cap %d)", a, cap(a), b, cap(b))
		}
		for _, v := range [...]*string{&a[0], &b[0], &b[1]} {
			if seen[v] {
				t.Fatal("a slot was handed out twice")
			}
			seen[v] = true
		}
		if a2 := append(a, "x"); &a2[0] == &a[0] || b[0] != "b" { // must copy, not reach b
			t.Fatal("append to one slot changed its neighbour")
		}
	}
}

func TestGetReservesRoom(t *testing.T) {
	var p slots.Pool
	for range 2 * slots.Size {
		s := p.Get(7)
		if s.Free() < 7 {
			t.Fatalf("Get(7) returned a slab with %d free values", s.Free())
		}
		for range 7 {
			s.Take("v")
		}
		p.Put(s)
	}
}

func TestAmortizedNoAllocation(t *testing.T) {
	var p slots.Pool
	n := testing.AllocsPerRun(1000, func() {
		s := p.Get(4)
		for range 4 {
			s.Take("v")
		}
		p.Put(s)
	})
	if n != 0 {
		t.Errorf("%v allocations per use, want 0 (amortized)", n)
	}
}

// TestSlabFillsItsSizeClass: a Slab is 2 KiB at most (a size class of the
// allocator): a larger Size would round each slab up to the next class and
// keep more live heap per pool (see Size).
func TestSlabFillsItsSizeClass(t *testing.T) {
	if n := unsafe.Sizeof(slots.Slab{}); n > 2048 || n <= 2048-16 {
		t.Fatalf("a Slab is %d bytes, want within one value of 2048", n)
	}
}
