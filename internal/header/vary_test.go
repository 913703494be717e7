package header_test

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/jiec/httpmw/internal/header"
)

var addVaryTests = []struct {
	desc     string
	existing []string // nil: no Vary field
	names    []string
	want     []string // nil: no Vary field
}{
	{"first name", nil, []string{"Accept-Encoding"}, []string{"Accept-Encoding"}},
	{"appended as a new line, existing kept", []string{"Origin"}, []string{"accept-encoding"}, []string{"Origin", "accept-encoding"}},
	{"duplicate ignored case-insensitively", []string{"Accept-Encoding"}, []string{"accept-encoding"}, []string{"Accept-Encoding"}},
	{"duplicate inside a list line", []string{"Origin, Accept-Encoding"}, []string{"ACCEPT-ENCODING"}, []string{"Origin, Accept-Encoding"}},
	{"duplicates among the names", nil, []string{"Origin", "origin", "Accept", "ORIGIN"}, []string{"Origin", "Accept"}},
	{"a name may be a list", nil, []string{"Accept, Origin ,, accept"}, []string{"Accept", "Origin"}},
	{"empty names add nothing", nil, []string{"", " ", ","}, nil},
	{"no names", []string{"Origin"}, nil, []string{"Origin"}},
	{"nothing is added next to *", []string{"*"}, []string{"Origin"}, []string{"*"}},
	{"nothing is added next to * in a list", []string{"Origin, *"}, []string{"Accept"}, []string{"Origin, *"}},
	{"* replaces the list", []string{"Origin", "Accept"}, []string{"*"}, []string{"*"}},
	{"* among the names wins", []string{"Origin"}, []string{"Accept", "*", "Cookie"}, []string{"*"}},
	{"* twice", []string{"*"}, []string{"*"}, []string{"*"}},
}

func TestAddVary(t *testing.T) {
	for _, tt := range addVaryTests {
		t.Run(tt.desc, func(t *testing.T) {
			h := http.Header{}
			if tt.existing != nil {
				h["Vary"] = slices.Clone(tt.existing)
			}
			header.AddVary(h, tt.names...)
			got, present := h["Vary"]
			if !slices.Equal(got, tt.want) || present != (tt.want != nil) {
				t.Errorf("Vary = %q (present %v), want %q", got, present, tt.want)
			}
		})
	}
}

func TestAddVaryNeverWritesSharedBackingArray(t *testing.T) {
	shared := make([]string, 1, 4)
	shared[0] = "Origin"
	a, b := http.Header{"Vary": shared}, http.Header{"Vary": shared}
	header.AddVary(a, "Accept-Encoding")
	header.AddVary(b, "Cookie")
	if got := a["Vary"]; !slices.Equal(got, []string{"Origin", "Accept-Encoding"}) {
		t.Errorf("a: Vary = %q", got)
	}
	if got := b["Vary"]; !slices.Equal(got, []string{"Origin", "Cookie"}) {
		t.Errorf("b: Vary = %q", got)
	}
	if extra := shared[:2][1]; extra != "" {
		t.Errorf("the shared backing array was written: %q", extra)
	}
}

var normalizeVaryTests = []struct {
	desc string
	in   []string // nil: no Vary field
	want []string
}{
	{"no field", nil, nil},
	{"clean lines are kept", []string{"Origin", "Accept-Encoding, Accept"}, []string{"Origin", "Accept-Encoding, Accept"}},
	{"duplicate across lines", []string{"Origin", "origin", "Accept"}, []string{"Origin, Accept"}},
	{"duplicate in a line, first spelling wins", []string{"accept-encoding, Origin, Accept-Encoding"}, []string{"accept-encoding, Origin"}},
	{"* alone is kept", []string{"*"}, []string{"*"}},
	{"* with names", []string{"Accept-Encoding", "*"}, []string{"*"}},
	{"* in a list", []string{"Origin, *, Accept"}, []string{"*"}},
	{"empty elements kept when clean", []string{"Origin, , Accept"}, []string{"Origin, , Accept"}},
	{"empty line", []string{""}, []string{""}},
}

func TestNormalizeVary(t *testing.T) {
	for _, tt := range normalizeVaryTests {
		t.Run(tt.desc, func(t *testing.T) {
			h := http.Header{}
			if tt.in != nil {
				h["Vary"] = slices.Clone(tt.in)
			}
			header.NormalizeVary(h)
			if got := h["Vary"]; !slices.Equal(got, tt.want) {
				t.Errorf("Vary = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNormalizeVaryManyTokens(t *testing.T) {
	var names []string
	for i := range 40 {
		names = append(names, "X-F"+strconv.Itoa(i))
	}
	in := append(slices.Clone(names), "x-f3")
	h := http.Header{"Vary": in}
	header.NormalizeVary(h)
	if got := h["Vary"]; !slices.Equal(got, []string{strings.Join(names, ", ")}) {
		t.Errorf("Vary = %q", got)
	}
}

func TestNormalizeVaryCleanDoesNotAllocate(t *testing.T) {
	h := http.Header{"Vary": {"Origin", "Accept-Encoding, Accept"}}
	if n := testing.AllocsPerRun(100, func() { header.NormalizeVary(h) }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}

var foldKeysTests = []struct {
	desc string
	in   http.Header
	want http.Header
}{
	{"canonical keys untouched", http.Header{"Etag": {`"a"`}, "Vary": {"Origin"}}, http.Header{"Etag": {`"a"`}, "Vary": {"Origin"}}},
	{"ETag replaces Etag", http.Header{"Etag": {`"mw"`}, "ETag": {`"handler"`}}, http.Header{"Etag": {`"handler"`}}},
	{"ETag alone", http.Header{"ETag": {`"h"`}}, http.Header{"Etag": {`"h"`}}},
	{"vary lines appended", http.Header{"Vary": {"Origin"}, "vary": {"Accept", "Cookie"}}, http.Header{"Vary": {"Origin", "Accept", "Cookie"}}},
	{"VARY alone", http.Header{"VARY": {"*"}}, http.Header{"Vary": {"*"}}},
	{"content fields", http.Header{"content-encoding": {"br"}, "CONTENT-LENGTH": {"3"}, "content-type": {"text/plain"}, "cache-control": {"no-transform"}},
		http.Header{"Content-Encoding": {"br"}, "Content-Length": {"3"}, "Content-Type": {"text/plain"}, "Cache-Control": {"no-transform"}}},
	{"trailer lines appended", http.Header{"Trailer": {"X-Mw"}, "trailer": {"X-Sum"}}, http.Header{"Trailer": {"X-Mw", "X-Sum"}}},
	{"every folded field, any spelling", http.Header{"VARY": {"a"}, "eTag": {"b"}, "TRAILER": {"c"}, "content-TYPE": {"d"},
		"last-modified": {"e"}, "CACHE-CONTROL": {"f"}, "content-range": {"g"}, "accept-RANGES": {"h"}, "content-length": {"i"}, "Content-encoding": {"j"}},
		http.Header{"Vary": {"a"}, "Etag": {"b"}, "Trailer": {"c"}, "Content-Type": {"d"}, "Last-Modified": {"e"}, "Cache-Control": {"f"},
			"Content-Range": {"g"}, "Accept-Ranges": {"h"}, "Content-Length": {"i"}, "Content-Encoding": {"j"}}},
	{"other spellings left alone", http.Header{"X-XSS-Protection": {"0"}, "WWW-Authenticate": {"Basic"}}, http.Header{"X-XSS-Protection": {"0"}, "WWW-Authenticate": {"Basic"}}},
}

func TestFoldKeys(t *testing.T) {
	for _, tt := range foldKeysTests {
		t.Run(tt.desc, func(t *testing.T) {
			h := tt.in.Clone()
			header.FoldKeys(h)
			if len(h) != len(tt.want) {
				t.Fatalf("got %v, want %v", h, tt.want)
			}
			for k, v := range tt.want {
				if !slices.Equal(h[k], v) {
					t.Errorf("%s = %q, want %q (all: %v)", k, h[k], v, h)
				}
			}
		})
	}
}

func TestFoldKeysCanonicalDoesNotAllocate(t *testing.T) {
	h := http.Header{"Etag": {`"a"`}, "Vary": {"Origin"}, "Content-Type": {"text/html"}, "X-XSS-Protection": {"0"}}
	if n := testing.AllocsPerRun(100, func() { header.FoldKeys(h) }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}
