package header_test

import (
	"slices"
	"testing"

	"github.com/jiec/httpmw/internal/header"
)

var parseETagTests = []struct {
	in   string
	want header.ETag
	ok   bool
}{
	{`"xyzzy"`, header.ETag{Opaque: `"xyzzy"`}, true},
	{`W/"xyzzy"`, header.ETag{Opaque: `"xyzzy"`, Weak: true}, true},
	{`""`, header.ETag{Opaque: `""`}, true},
	{`W/""`, header.ETag{Opaque: `""`, Weak: true}, true},
	{`"a,b"`, header.ETag{Opaque: `"a,b"`}, true},
	{`"a\"`, header.ETag{Opaque: `"a\"`}, true},                 // a backslash is an etagc, not an escape
	{"\"\x80\xff\"", header.ETag{Opaque: "\"\x80\xff\""}, true}, // obs-text
	{`xyzzy`, header.ETag{}, false},
	{`"xy"zy"`, header.ETag{}, false},
	{`"xy zzy"`, header.ETag{}, false},
	{"\"a\x7f\"", header.ETag{}, false},
	{"\"a\tb\"", header.ETag{}, false},
	{`w/"x"`, header.ETag{}, false}, // W/ is case-sensitive (%s"W/")
	{`W/x`, header.ETag{}, false},
	{`W/`, header.ETag{}, false},
	{`"`, header.ETag{}, false},
	{`W/"`, header.ETag{}, false},
	{` "a"`, header.ETag{}, false}, // callers trim OWS
	{`*`, header.ETag{}, false},
	{``, header.ETag{}, false},
}

func TestParseETag(t *testing.T) {
	for _, tt := range parseETagTests {
		got, ok := header.ParseETag(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseETag(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
		if ok && got.String() != tt.in {
			t.Errorf("ParseETag(%q).String() = %q", tt.in, got.String())
		}
	}
}

// TestETagComparison is the example table of RFC 9110 §8.8.3.2.
func TestETagComparison(t *testing.T) {
	tests := []struct {
		a, b         string
		strong, weak bool
	}{
		{`W/"1"`, `W/"1"`, false, true},
		{`W/"1"`, `W/"2"`, false, false},
		{`W/"1"`, `"1"`, false, true},
		{`"1"`, `"1"`, true, true},
	}
	for _, tt := range tests {
		a, _ := header.ParseETag(tt.a)
		b, _ := header.ParseETag(tt.b)
		if got := header.StrongMatch(a, b); got != tt.strong {
			t.Errorf("StrongMatch(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.strong)
		}
		if got := header.WeakMatch(a, b); got != tt.weak {
			t.Errorf("WeakMatch(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.weak)
		}
	}
}

var nextETagTests = []struct {
	desc, in, elem, rest string
}{
	{"two tags", `"a", "b"`, `"a"`, ` "b"`},
	{"backslash is not an escape", `"a\", "b"`, `"a\"`, ` "b"`},
	{"comma inside a tag", `W/"a,b" , "c"`, `W/"a,b"`, ` "c"`},
	{"star", `*`, `*`, ``},
	{"OWS", " \t\"a\" \t", `"a"`, ``},
	{"junk after a tag stays in the element", `"a"junk, "b"`, `"a"junk`, ` "b"`},
	{"junk", `junk, "b"`, `junk`, ` "b"`},
	{"unterminated tag runs to the end", `"open, x`, `"open, x`, ``},
	{"empty element", `, ,"a"`, ``, ` ,"a"`},
	{"empty", ``, ``, ``},
}

func TestNextETag(t *testing.T) {
	for _, tt := range nextETagTests {
		t.Run(tt.desc, func(t *testing.T) {
			elem, rest := header.NextETag(tt.in)
			if elem != tt.elem || rest != tt.rest {
				t.Errorf("NextETag(%q) = %q, %q; want %q, %q", tt.in, elem, rest, tt.elem, tt.rest)
			}
		})
	}
}

func TestETags(t *testing.T) {
	got := slices.Collect(header.ETags([]string{`"a", W/"b,c"`, ``, `*`, ` , "d\" ,`}))
	want := []string{`"a"`, `W/"b,c"`, `*`, `"d\"`}
	if !slices.Equal(got, want) {
		t.Errorf("ETags = %q, want %q", got, want)
	}
}

var matchETagsTests = []struct {
	desc                 string
	values               []string
	cur                  string
	weak                 bool
	matched, star, valid bool
}{
	{"strong match in a list", []string{`"a", "b"`}, `"b"`, false, true, false, true},
	{"no match", []string{`"a", "b"`}, `"c"`, true, false, false, true},
	{"weak tag matches weakly (If-None-Match)", []string{`W/"b"`}, `"b"`, true, true, false, true},
	{"weak tag never matches strongly (If-Match)", []string{`W/"b"`}, `"b"`, false, false, false, true},
	{"weak current tag never matches strongly", []string{`"b"`}, `W/"b"`, false, false, false, true},
	{"several field lines", []string{`"a"`, `"b"`}, `"b"`, false, true, false, true},
	{"star", []string{`*`}, `"b"`, false, false, true, true},
	{"malformed elements never match", []string{`b, "b`}, `"b"`, true, false, false, false},
	{"malformed and valid elements", []string{`junk, "b"`}, `"b"`, true, true, false, true},
	{"backslash before a comma", []string{`"a\", "b"`}, `"b"`, true, true, false, true},
	{"backslash tag itself", []string{`"a\", "b"`}, `"a\"`, false, true, false, true},
	{"comma inside the current tag", []string{`"x", "a,b"`}, `"a,b"`, false, true, false, true},
	{"empty field", []string{``}, `"b"`, true, false, false, false},
	{"absent field", nil, `"b"`, true, false, false, false},
}

func TestMatchETags(t *testing.T) {
	for _, tt := range matchETagsTests {
		t.Run(tt.desc, func(t *testing.T) {
			cur, ok := header.ParseETag(tt.cur)
			if !ok {
				t.Fatalf("bad current tag %q", tt.cur)
			}
			matched, star, valid := header.MatchETags(tt.values, cur, tt.weak)
			if matched != tt.matched || star != tt.star || valid != tt.valid {
				t.Errorf("MatchETags(%q, %s, weak=%v) = %v, %v, %v; want %v, %v, %v",
					tt.values, tt.cur, tt.weak, matched, star, valid, tt.matched, tt.star, tt.valid)
			}
		})
	}
}
