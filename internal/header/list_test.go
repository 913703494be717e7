package header_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/jiec/httpmw/internal/header"
)

var nextElementTests = []struct {
	desc       string
	in         string
	elem, rest string
}{
	{"empty", "", "", ""},
	{"single", "gzip", "gzip", ""},
	{"two", "gzip, br", "gzip", " br"},
	{"OWS around", " \tgzip \t, br", "gzip", " br"},
	{"empty first element", ", gzip", "", " gzip"},
	{"only comma", ",", "", ""},
	{"only OWS", " \t ", "", ""},
	{"comma inside quoted string", `a="x,y", b`, `a="x,y"`, " b"},
	{"escaped quote inside quoted string", `a="x\",y", b`, `a="x\",y"`, " b"},
	{"escaped backslash ends the quote", `a="x\\",y`, `a="x\\"`, "y"},
	{"unterminated quote runs to the end", `a="x, y`, `a="x, y`, ""},
	{"parameters stay", "text/html;q=0.9 , */*", "text/html;q=0.9", " */*"},
	{"trailing backslash in quote", `"a\`, `"a\`, ""},
}

func TestNextElement(t *testing.T) {
	for _, tt := range nextElementTests {
		t.Run(tt.desc, func(t *testing.T) {
			elem, rest := header.NextElement(tt.in)
			if elem != tt.elem || rest != tt.rest {
				t.Errorf("NextElement(%q) = %q, %q; want %q, %q", tt.in, elem, rest, tt.elem, tt.rest)
			}
		})
	}
}

func TestElements(t *testing.T) {
	tests := []struct {
		desc   string
		values []string
		want   []string
	}{
		{"nil", nil, nil},
		{"empty line", []string{""}, nil},
		{"empty elements are skipped (RFC 9110 §5.6.1.2)", []string{", ,a,, b ,\t,"}, []string{"a", "b"}},
		{"several lines are one list (RFC 9110 §5.3)", []string{"a, b", "", "c", " , d"}, []string{"a", "b", "c", "d"}},
		{"quoted strings", []string{`foo="a,b", bar="c\"d,e" , baz`}, []string{`foo="a,b"`, `bar="c\"d,e"`, "baz"}},
		{"OWS is SP and HTAB only", []string{"a\t,\vb"}, []string{"a", "\vb"}},
		{"media ranges", []string{"text/html, application/xml;q=0.9, */*;q=0.8"}, []string{"text/html", "application/xml;q=0.9", "*/*;q=0.8"}},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			got := slices.Collect(header.Elements(tt.values))
			if !slices.Equal(got, tt.want) {
				t.Errorf("Elements(%q) = %q, want %q", tt.values, got, tt.want)
			}
		})
	}
}

func TestElementsStopsWhenAsked(t *testing.T) {
	n := 0
	for e := range header.Elements([]string{"a, b", "c"}) {
		n++
		if e == "b" {
			break
		}
	}
	if n != 2 {
		t.Errorf("iterated %d elements after break at the 2nd, want 2", n)
	}
}

func TestTrimOWS(t *testing.T) {
	for in, want := range map[string]string{
		"": "", " ": "", "\t a b \t": "a b", "a": "a", "\r\na\n": "\r\na\n", " \"x\" ": `"x"`,
	} {
		if got := header.TrimOWS(in); got != want {
			t.Errorf("TrimOWS(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIsToken(t *testing.T) {
	for in, want := range map[string]bool{
		"": false, "gzip": true, "x-custom_1.2~!#$%&'*+^`|": true, "a b": false, "a,b": false,
		"a;b": false, `"a"`: false, "a/b": false, "a=b": false, "é": false, "a\x7f": false, "{}": false,
	} {
		if got := header.IsToken(in); got != want {
			t.Errorf("IsToken(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestHasToken(t *testing.T) {
	tests := []struct {
		values []string
		token  string
		want   bool
	}{
		{[]string{"no-cache, no-transform"}, "no-transform", true},
		{[]string{"max-age=0", "No-Transform"}, "no-transform", true},
		{[]string{"no-transformer"}, "no-transform", false},
		{[]string{`private="no-transform"`}, "no-transform", false},
		{[]string{`foo="a, no-transform"`}, "no-transform", false},
		{[]string{"gzip;q=0"}, "gzip", true}, // parameters are ignored
		{nil, "gzip", false},
	}
	for _, tt := range tests {
		if got := header.HasToken(tt.values, tt.token); got != tt.want {
			t.Errorf("HasToken(%q, %q) = %v, want %v", tt.values, tt.token, got, tt.want)
		}
	}
}

func TestCutParams(t *testing.T) {
	tests := []struct{ in, value, params string }{
		{"text/html", "text/html", ""},
		{"text/html ; charset=utf-8", "text/html", "charset=utf-8"},
		{"text/html;charset=utf-8; q=0.5 ", "text/html", "charset=utf-8; q=0.5"},
		// RFC 9110 §5.6.6: parameters = *( OWS ";" OWS [ parameter ] )
		{"text/html;", "text/html", ""},
		{"text/html; ;charset=utf-8;; ", "text/html", "charset=utf-8"},
		{";a=b", "", "a=b"},
	}
	for _, tt := range tests {
		value, params := header.CutParams(tt.in)
		if value != tt.value || params != tt.params {
			t.Errorf("CutParams(%q) = %q, %q; want %q, %q", tt.in, value, params, tt.value, tt.params)
		}
	}
}

func TestTotalLenAndMaxLen(t *testing.T) {
	if got := header.TotalLen([]string{"ab", "", "cde"}); got != 5 {
		t.Errorf("TotalLen = %d, want 5", got)
	}
	if header.MaxLen != 8<<10 || header.MaxElements <= 0 {
		t.Errorf("MaxLen %d, MaxElements %d", header.MaxLen, header.MaxElements)
	}
	long := []string{strings.Repeat("a,", header.MaxLen)}
	if header.TotalLen(long) <= header.MaxLen {
		t.Error("a list longer than MaxLen is not measured as such")
	}
}
