package header_test

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
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
	{"joined to the existing line", []string{"Origin"}, []string{"accept-encoding"}, []string{"Origin, accept-encoding"}},
	{"three layers make one line", nil, []string{"Accept", "Origin", "Accept-Encoding"}, []string{"Accept, Origin, Accept-Encoding"}},
	{"a handler's own line joined", []string{"Cookie"}, []string{"Origin", "Accept-Encoding"}, []string{"Cookie, Origin, Accept-Encoding"}},
	{"a handler's lines joined into one", []string{"Cookie", "Authorization"}, []string{"Origin"}, []string{"Cookie, Authorization, Origin"}},
	{"lines kept when nothing is added", []string{"Cookie", "Origin"}, []string{"origin"}, []string{"Cookie", "Origin"}},
	{"empty lines dropped by the join", []string{"", " Cookie ", " "}, []string{"Origin"}, []string{"Cookie, Origin"}},
	{"empty elements kept in a clean line", []string{"Cookie, , Accept"}, []string{"Origin"}, []string{"Cookie, , Accept, Origin"}},
	{"a malformed line is not joined", []string{`"Cookie`}, []string{"Origin"}, []string{`"Cookie`, "Origin"}},
	{"a malformed member keeps every line", []string{"Cookie", `x"y, Accept`}, []string{"Origin", "Accept-Encoding"}, []string{"Cookie", `x"y, Accept`, "Origin", "Accept-Encoding"}},
	{"a non-token name gets a line of its own", []string{"Cookie"}, []string{"a/b"}, []string{"Cookie", "a/b"}},
	{"a line after a non-token name is not joined", []string{"Cookie"}, []string{"a/b", "Origin"}, []string{"Cookie", "a/b", "Origin"}},
	{"duplicate ignored case-insensitively", []string{"Accept-Encoding"}, []string{"accept-encoding"}, []string{"Accept-Encoding"}},
	{"duplicate inside a list line", []string{"Origin, Accept-Encoding"}, []string{"ACCEPT-ENCODING"}, []string{"Origin, Accept-Encoding"}},
	{"duplicate in a handler's line, other case", []string{"cookie, ORIGIN"}, []string{"Origin", "Cookie"}, []string{"cookie, ORIGIN"}},
	{"duplicates among the names", nil, []string{"Origin", "origin", "Accept", "ORIGIN"}, []string{"Origin, Accept"}},
	{"a name may be a list", nil, []string{"Accept, Origin ,, accept"}, []string{"Accept, Origin"}},
	{"empty names add nothing", nil, []string{"", " ", ","}, nil},
	{"no names", []string{"Origin"}, nil, []string{"Origin"}},
	{"nothing is added next to *", []string{"*"}, []string{"Origin"}, []string{"*"}},
	{"nothing is added next to * in a list", []string{"Origin, *"}, []string{"Accept"}, []string{"Origin, *"}},
	{"nothing is added next to * on another line", []string{"Origin", "*"}, []string{"Accept"}, []string{"Origin", "*"}},
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
	for _, shared := range [][]string{
		append(make([]string, 0, 4), "Origin"),            // joined
		append(make([]string, 0, 4), `"Origin`, "Accept"), // appended as a line
	} {
		a, b := http.Header{"Vary": shared}, http.Header{"Vary": shared}
		header.AddVary(a, "Accept-Encoding")
		header.AddVary(b, "Cookie")
		if got := slices.Collect(header.Elements(a["Vary"])); !slices.Equal(got, append(slices.Clone(shared), "Accept-Encoding")) {
			t.Errorf("a: Vary = %q", a["Vary"])
		}
		if got := slices.Collect(header.Elements(b["Vary"])); !slices.Equal(got, append(slices.Clone(shared), "Cookie")) {
			t.Errorf("b: Vary = %q", b["Vary"])
		}
		if extra := shared[:cap(shared)][len(shared)]; extra != "" {
			t.Errorf("the shared backing array was written: %q", extra)
		}
	}
}

// TestAddVaryJoinsWithoutAllocating: the lines a chain's layers build recur,
// and come from the join table and a slab.
func TestAddVaryJoinsWithoutAllocating(t *testing.T) {
	h := http.Header{}
	header.AddVary(h, "Accept", "Origin", "Accept-Encoding") // fills the table
	n := testing.AllocsPerRun(100, func() {
		delete(h, "Vary")
		header.AddVary(h, "Accept")
		header.AddVary(h, "Origin")
		header.AddVary(h, "Accept-Encoding")
	})
	if n != 0 {
		t.Errorf("%v allocations per response, want 0", n)
	}
	if got := h["Vary"]; !slices.Equal(got, []string{"Accept, Origin, Accept-Encoding"}) {
		t.Errorf("Vary = %q", got)
	}
}

// TestAddVaryJoinTableChecksTheSeparator: an entry of the table is only
// reused for its own pair, also when another pair has the same length,
// prefix and suffix ("0ab1" + "y" against "0" + "1, y").
func TestAddVaryJoinTableChecksTheSeparator(t *testing.T) {
	for range 2 { // the second round finds the first one's entries
		for _, tc := range []struct{ line, name, want string }{
			{"0ab1", "y", "0ab1, y"},
			{"0", "1, y", "0, 1, y"},
			{"0, 1", "y", "0, 1, y"},
		} {
			h := http.Header{"Vary": {tc.line}}
			header.AddVary(h, tc.name)
			if got := h["Vary"]; len(got) != 1 || got[0] != tc.want {
				t.Errorf("AddVary(%q, %q) = %q, want %q", tc.line, tc.name, got, tc.want)
			}
		}
		// An entry of another pair in the set of ("0", "1, y").
		header.PlantJoin("0", "1, y", "0ab1, y")
		if got := header.Join("0", "1, y"); got != "0, 1, y" {
			t.Errorf(`Join("0", "1, y") = %q`, got)
		}
		h := http.Header{"Vary": {"0ab1", "y"}}
		header.NormalizeVary(h)
		h2 := http.Header{"Vary": {"0", "1, y"}}
		header.NormalizeVary(h2)
		if !slices.Equal(h["Vary"], []string{"0ab1, y"}) || !slices.Equal(h2["Vary"], []string{"0, 1, y"}) {
			t.Errorf("NormalizeVary: %q and %q", h["Vary"], h2["Vary"])
		}
	}
}

// TestAddVaryJoinTableBounded: handler values that never recur (a new one
// per request) leave the table at its size, and every result is right.
func TestAddVaryJoinTableBounded(t *testing.T) {
	for i := range 4 * header.JoinSlots {
		own := "X-V" + strconv.Itoa(i)
		h := http.Header{"Vary": {own}}
		header.AddVary(h, "Origin", "Accept-Encoding")
		if got, want := h["Vary"], own+", Origin, Accept-Encoding"; len(got) != 1 || got[0] != want {
			t.Fatalf("Vary = %q, want %q", got, want)
		}
	}
	if n, max := header.JoinEntries(); n > header.JoinSlots || max > header.MaxJoinLen {
		t.Errorf("%d entries (size %d), longest %d (bound %d)", n, header.JoinSlots, max, header.MaxJoinLen)
	}
	// A joined line over the bound is right, and not kept.
	long := strings.Repeat("X-Long-Field-Name-", 20)[:header.MaxJoinLen]
	h := http.Header{"Vary": {long}}
	header.AddVary(h, "Origin")
	if got := h["Vary"]; len(got) != 1 || got[0] != long+", Origin" {
		t.Errorf("Vary = %q", got)
	}
	if _, max := header.JoinEntries(); max > header.MaxJoinLen {
		t.Errorf("an entry of %d bytes, bound %d", max, header.MaxJoinLen)
	}
}

// TestAddVaryConcurrent runs AddVary on many goroutines with recurring and
// fresh values (run with -race): every result is right.
func TestAddVaryConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				own := "Cookie"
				if i%3 == 0 {
					own = "X-G" + strconv.Itoa(g) + "-" + strconv.Itoa(i%50)
				}
				h := http.Header{"Vary": {own}}
				header.AddVary(h, "Accept")
				header.AddVary(h, "Origin", "Accept-Encoding")
				if got, want := h["Vary"], own+", Accept, Origin, Accept-Encoding"; len(got) != 1 || got[0] != want {
					t.Errorf("Vary = %q, want %q", got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

var normalizeVaryTests = []struct {
	desc string
	in   []string // nil: no Vary field
	want []string
}{
	{"no field", nil, nil},
	{"a clean line is kept", []string{"Origin, Accept-Encoding, Accept"}, []string{"Origin, Accept-Encoding, Accept"}},
	{"clean lines become one", []string{"Origin", "Accept-Encoding, Accept"}, []string{"Origin, Accept-Encoding, Accept"}},
	{"clean lines become one, empty ones dropped", []string{"Origin", " ", "Accept"}, []string{"Origin, Accept"}},
	{"a malformed member keeps the lines", []string{"Origin", `"Accept`}, []string{"Origin", `"Accept`}},
	{"a malformed member keeps the lines of a duplicate", []string{"Origin", `x"y`, "origin"}, []string{"Origin", `x"y`}},
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
	h := http.Header{"Vary": {"Origin, Accept-Encoding, Accept"}}
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
