package cache

import (
	"strings"
	"testing"
)

// Vectors of the XXH64 reference implementation (seed 0); the bench module
// also compares against github.com/cespare/xxhash/v2 on random inputs.
func TestXXH64MatchesReferenceVectors(t *testing.T) {
	for _, c := range []struct {
		in   string
		want uint64
	}{
		{"", 0xEF46DB3751D8E999},
		{"a", 0xD24EC4F1A98C6E5B},
		{"abc", 0x44BC2CF5AD770999},
	} {
		var d xxh64
		d.reset()
		d.write([]byte(c.in))
		if got := d.sum(); got != c.want {
			t.Errorf("XXH64(%q) = %#x, want %#x", c.in, got, c.want)
		}
	}
}

func TestXXH64DoesNotDependOnWriteBoundaries(t *testing.T) {
	in := []byte(strings.Repeat("The quick brown fox jumps over the lazy dog. ", 40))
	for n := range len(in) + 1 {
		var whole xxh64
		whole.reset()
		whole.write(in[:n])
		for _, step := range []int{1, 3, 7, 31, 32, 33, 100} {
			var d xxh64
			d.reset()
			for i := 0; i < n; i += step {
				d.write(in[i:min(i+step, n)])
			}
			if d.sum() != whole.sum() {
				t.Fatalf("%d bytes in writes of %d: %#x, want %#x", n, step, d.sum(), whole.sum())
			}
		}
	}
}
