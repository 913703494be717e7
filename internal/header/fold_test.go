package header_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/jiec/httpmw/internal/header"
)

var foldTrailersTests = []struct {
	desc string
	in   http.Header
	want bool
}{
	{"no trailer key", http.Header{"Content-Type": {"a"}, "Trailer": {"X-Sum"}, "X-Trailer-Id": {"b"}}, false},
	{"a trailer key", http.Header{"Content-Type": {"a"}, "Trailer:X-Sum": {"1"}}, true},
	{"the bare prefix", http.Header{"Trailer:": {"1"}}, true},
	{"a trailer key next to keys folded", http.Header{"etag": {`"a"`}, "vary": {"Origin"}, "Trailer:Content-Type": {"x"}}, true},
	{"the prefix in another case is no trailer (net/http matches it as written)", http.Header{"trailer:X-Sum": {"1"}, "TRAILER:X": {"2"}}, false},
	{"an empty map", http.Header{}, false},
}

// TestFoldKeysTrailersReportsTrailerKeys: the walk that folds the keys
// reports keys with http.TrailerPrefix, and folds as FoldKeys does.
func TestFoldKeysTrailersReportsTrailerKeys(t *testing.T) {
	for _, tt := range foldTrailersTests {
		t.Run(tt.desc, func(t *testing.T) {
			h, want := tt.in.Clone(), tt.in.Clone()
			header.FoldKeys(want)
			if got := header.FoldKeysTrailers(h); got != tt.want {
				t.Errorf("FoldKeysTrailers(%v) = %v, want %v", tt.in, got, tt.want)
			}
			if len(h) != len(want) {
				t.Fatalf("folded to %v, FoldKeys to %v", h, want)
			}
			for k, v := range want {
				if !slices.Equal(h[k], v) {
					t.Errorf("%s = %q, FoldKeys gives %q", k, h[k], v)
				}
			}
		})
	}
	for _, tt := range foldKeysTests { // FoldKeys's own table
		h := tt.in.Clone()
		if header.FoldKeysTrailers(h) || len(h) != len(tt.want) {
			t.Errorf("%s: %v", tt.desc, h)
		}
	}
}

func TestFoldKeysTrailersCanonicalDoesNotAllocate(t *testing.T) {
	h := http.Header{"Etag": {`"a"`}, "Vary": {"Origin"}, "Trailer:X-Sum": {"1"}, "X-XSS-Protection": {"0"}}
	if n := testing.AllocsPerRun(100, func() { header.FoldKeysTrailers(h) }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}

func FuzzFoldKeysTrailers(f *testing.F) {
	for _, tt := range foldTrailersTests {
		for k, v := range tt.in {
			f.Add(k, strings.Join(v, ","), "Etag")
		}
	}
	f.Fuzz(func(t *testing.T, k1, v1, k2 string) {
		h := http.Header{k1: {v1}, k2: {"x"}}
		want := strings.HasPrefix(k1, http.TrailerPrefix) || strings.HasPrefix(k2, http.TrailerPrefix)
		folded := h.Clone()
		header.FoldKeys(folded)
		if got := header.FoldKeysTrailers(h); got != want {
			t.Fatalf("FoldKeysTrailers(%q, %q) = %v, want %v", k1, k2, got, want)
		}
		// Two non-canonical spellings of one field fold in map order:
		// the same keys, the same lines, not always in one order.
		if len(h) != len(folded) {
			t.Fatalf("folded to %v, FoldKeys to %v", h, folded)
		}
		for k, v := range folded {
			if len(h[k]) != len(v) {
				t.Fatalf("%s = %q, FoldKeys gives %q", k, h[k], v)
			}
		}
	})
}

func BenchmarkFoldKeysTrailers(b *testing.B) {
	// The fields of the chain's 2 KiB response at the commit (bench/).
	h := http.Header{
		"Referrer-Policy": {"same-origin"}, "Permissions-Policy": {"camera=()"}, "Cross-Origin-Opener-Policy": {"same-origin"},
		"Cross-Origin-Resource-Policy": {"same-origin"}, "Vary": {"Origin", "Accept-Encoding", "Accept"},
		"Ratelimit-Policy": {`"default";q=100;w=1`}, "Content-Type": {"application/json"}, "X-Content-Type-Options": {"nosniff"},
		"Content-Security-Policy": {"default-src 'self'"}, "Ratelimit": {`"default";r=99;t=1`}, "X-Trace-Id": {"0af7651916cd43dd8448eb211c80319c"},
	}
	b.ReportAllocs()
	for b.Loop() {
		header.FoldKeysTrailers(h)
	}
}
