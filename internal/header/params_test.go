package header_test

import (
	"testing"

	"github.com/jiec/httpmw/internal/header"
)

var nextParamTests = []struct {
	desc              string
	in                string
	name, value, rest string
	ok                bool
}{
	{"token value", "charset=utf-8", "charset", "utf-8", "", true},
	{"next parameter follows", "charset=utf-8; q=0.5", "charset", "utf-8", "q=0.5", true},
	{"leading separators", " ;; a=b", "a", "b", "", true},
	{"empty parameters after (RFC 9110 §5.6.6)", "a=b;; ; ", "a", "b", "", true},
	{"quoted value kept quoted", `title="a;b=c, d"; x=y`, "title", `"a;b=c, d"`, "x=y", true},
	{"escaped quote in value", `t="a\"b"`, "t", `"a\"b"`, "", true},
	{"name case kept", "Q=1", "Q", "1", "", true},
	{"OWS around value", "q= 0.5 ;x=1", "q", "0.5", "x=1", true},
	{"empty", "", "", "", "", false},
	{"only separators", " ; ;", "", "", "", false},
	{"no equals sign", "level", "", "", "", false},
	{"empty name", "=x", "", "", "", false},
	{"name not a token", "a b=c", "", "", "", false},
	{"empty value", "q=", "", "", "", false},
	{"value not a token", "a=b c", "", "", "", false},
	{"unterminated quote", `a="b;c`, "", "", "", false},
	{"garbage after quote", `a="b"c`, "", "", "", false},
}

func TestNextParam(t *testing.T) {
	for _, tt := range nextParamTests {
		t.Run(tt.desc, func(t *testing.T) {
			name, value, rest, ok := header.NextParam(tt.in)
			if name != tt.name || value != tt.value || rest != tt.rest || ok != tt.ok {
				t.Errorf("NextParam(%q) = %q, %q, %q, %v; want %q, %q, %q, %v",
					tt.in, name, value, rest, ok, tt.name, tt.value, tt.rest, tt.ok)
			}
		})
	}
}

func TestNextParamLoopEndsAfterEmptyParameters(t *testing.T) {
	params := "a=1;; b=\"2\" ;;"
	var names []string
	for params != "" {
		name, _, rest, ok := header.NextParam(params)
		if !ok {
			t.Fatalf("NextParam(%q) failed", params)
		}
		names = append(names, name)
		params = rest
	}
	if len(names) != 2 {
		t.Errorf("parameters %q, want [a b]", names)
	}
}

var unquoteTests = []struct{ in, want string }{
	{`"abc"`, "abc"},
	{`""`, ""},
	{`"a\"b"`, `a"b`},
	{`"a\\b"`, `a\b`},
	{`"\a\b"`, "ab"}, // any quoted-pair stands for its second byte
	{`abc`, "abc"},   // not quoted: unchanged
	{`"abc`, `"abc`},
	{`"`, `"`},
	{`"a\"`, `a\`}, // malformed (the last quote is escaped): lenient, never panics
}

func TestUnquote(t *testing.T) {
	for _, tt := range unquoteTests {
		if got := header.Unquote(tt.in); got != tt.want {
			t.Errorf("Unquote(%s) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
