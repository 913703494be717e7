package trace_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/jiec/httpmw/internal/header"
	"github.com/jiec/httpmw/trace"
)

func members(n int, format string) []string {
	m := make([]string, n)
	for i := range m {
		m[i] = fmt.Sprintf(format, i+1, i+1)
	}
	return m
}

// Printable ASCII allowed in a value: 0x20-0x7E except ',' and '='.
var allValueChars = func() string {
	var b strings.Builder
	for c := byte(0x20); c <= 0x7e; c++ {
		if c != ',' && c != '=' {
			b.WriteByte(c)
		}
	}
	return b.String()
}()

// traceStateCases covers the tracestate rules of W3C Trace Context Level 2
// §3.3 and the w3c/trace-context test suite. want is the propagated value;
// ok=false means the whole tracestate is dropped.
var traceStateCases = []struct {
	desc   string
	values []string
	want   string
	ok     bool
}{
	{"absent", nil, "", true},
	{"empty header", []string{""}, "", true},
	{"whitespace only", []string{" \t "}, "", true},
	{"single member", []string{"foo=1"}, "foo=1", true},
	{"two members", []string{"rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"}, "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE", true},
	{"empty line then member", []string{"", "foo=1"}, "foo=1", true},
	{"member then empty line", []string{"foo=1", ""}, "foo=1", true},
	{"field lines combined in order (RFC 9110 §5.3)", []string{"foo=1,bar=2", "rojo=1,congo=2", "baz=3"}, "foo=1,bar=2,rojo=1,congo=2,baz=3", true},
	{"OWS around members", []string{"foo=1 \t , \t bar=2, \t baz=3"}, "foo=1,bar=2,baz=3", true},
	{"OWS around members tabs", []string{"foo=1\t \t,\t \tbar=2,\t \tbaz=3"}, "foo=1,bar=2,baz=3", true},
	{"leading space", []string{" foo=1"}, "foo=1", true},
	{"leading tab", []string{"\tfoo=1"}, "foo=1", true},
	{"trailing space is OWS, not value", []string{"foo=1 "}, "foo=1", true},
	{"trailing tab", []string{"foo=1\t"}, "foo=1", true},
	{"OWS both sides", []string{"\t foo=1 \t"}, "foo=1", true},
	{"empty members allowed", []string{"foo=1,,bar=2"}, "foo=1,bar=2", true},
	{"leading and trailing commas", []string{",foo=1,"}, "foo=1", true},
	{"32 members", []string{strings.Join(members(32, "bar%02d=%02d"), ",")}, strings.Join(members(32, "bar%02d=%02d"), ","), true},
	{"32 members over lines", []string{
		strings.Join(members(32, "bar%02d=%02d")[:10], ","),
		strings.Join(members(32, "bar%02d=%02d")[10:20], ","),
		strings.Join(members(32, "bar%02d=%02d")[20:], ","),
	}, strings.Join(members(32, "bar%02d=%02d"), ","), true},
	{"33 members", []string{strings.Join(members(33, "bar%02d=%02d"), ",")}, "", false},
	{"33 members with a duplicate", []string{strings.Join(members(32, "bar%02d=%02d"), ",") + ",bar01=x"}, "", false},

	{"key of 256 characters", []string{"foo=1", strings.Repeat("z", 256) + "=1"}, "foo=1," + strings.Repeat("z", 256) + "=1", true},
	{"key of 257 characters", []string{"foo=1", strings.Repeat("z", 257) + "=1"}, "", false},
	{"key starting with digit", []string{"1foo=1"}, "1foo=1", true},
	{"key with all keychars", []string{"abcdefghijklmnopqrstuvwxyz0123456789_-*/@=1"}, "abcdefghijklmnopqrstuvwxyz0123456789_-*/@=1", true},
	{"key uppercase", []string{"FOO=1"}, "", false},
	{"key with dot", []string{"foo.bar=1"}, "", false},
	{"key with space before =", []string{"foo =1"}, "", false},
	{"key starting with underscore", []string{"_foo=1"}, "", false},
	{"key starting with @", []string{"@foo=1,bar=2"}, "", false},
	// Level 2 unified the key grammar: '@' may appear anywhere but first
	// (w3c/trace-context#584). Level 1 required tenant@vendor with one '@'
	// and its suite rejected these three.
	{"key ending with @ (Level 2)", []string{"foo@=1,bar=2"}, "foo@=1,bar=2", true},
	{"key with @@ (Level 2)", []string{"foo@@bar=1,bar=2"}, "foo@@bar=1,bar=2", true},
	{"key with two @ (Level 2)", []string{"foo@bar@baz=1,bar=2"}, "foo@bar@baz=1,bar=2", true},
	{"long tenant@vendor key", []string{"foo=1", strings.Repeat("t", 241) + "@" + strings.Repeat("v", 14) + "=1"}, "foo=1," + strings.Repeat("t", 241) + "@" + strings.Repeat("v", 14) + "=1", true},
	{"empty key", []string{"=1"}, "", false},
	{"no equals sign", []string{"foo"}, "", false},

	{"value with all allowed characters", []string{"foo=" + allValueChars}, "foo=" + allValueChars, true},
	{"value with leading space kept", []string{"foo= 1"}, "foo= 1", true},
	{"value of 256 characters", []string{"foo=" + strings.Repeat("v", 256)}, "foo=" + strings.Repeat("v", 256), true},
	{"value of 257 characters", []string{"foo=" + strings.Repeat("v", 257)}, "", false},
	{"empty value", []string{"foo="}, "", false},
	{"value with =", []string{"foo=a=b"}, "", false},
	{"value with tab", []string{"foo=a\tb"}, "", false},
	{"value with control character", []string{"foo=a\x01b"}, "", false},
	{"value with DEL", []string{"foo=a\x7fb"}, "", false},
	{"value with non-ASCII", []string{"foo=caf\xc3\xa9"}, "", false},
	{"one bad member drops all", []string{"foo=1,BAR=2"}, "", false},

	// Only one entry per key (§3.3.1.4); the left-most is the most recent
	// position, later copies are dropped. (The Level 1 suite at STRICT_LEVEL=2
	// discarded the whole header; current suites accept either.)
	{"duplicate key keeps first", []string{"foo=1,foo=2"}, "foo=1", true},
	{"identical duplicates", []string{"foo=1,foo=1"}, "foo=1", true},
	{"duplicate key across lines", []string{"foo=1", "foo=2"}, "foo=1", true},
	{"key prefix is not a duplicate", []string{"foo=1,fo=2,foox=3"}, "foo=1,fo=2,foox=3", true},
}

func TestParseTraceStateFollowsTraceContext(t *testing.T) {
	for _, c := range traceStateCases {
		t.Run(c.desc, func(t *testing.T) {
			got, err := trace.ParseTraceState(c.values, header.MaxLen)
			if (err == nil) != c.ok {
				t.Fatalf("ParseTraceState(%q) error = %v, want ok=%v", c.values, err, c.ok)
			}
			if got != c.want {
				t.Errorf("ParseTraceState(%q) = %q, want %q", c.values, got, c.want)
			}
		})
	}
}

func TestParseTraceStateTruncatesWholeMembers(t *testing.T) {
	big := "big=" + strings.Repeat("b", 200)   // > 128 characters
	mid := "m%02d=" + strings.Repeat("m", 100) // 104 characters
	mids := members(6, "")
	for i := range mids {
		mids[i] = fmt.Sprintf(mid, i)
	}
	cases := []struct {
		desc   string
		values []string
		limit  int
		want   string
	}{
		{"exactly at the limit is kept", []string{"a=" + strings.Repeat("x", 256) + ",b=" + strings.Repeat("y", 250)}, 512,
			"a=" + strings.Repeat("x", 256) + ",b=" + strings.Repeat("y", 250)},
		// §3.3.1.5: entries larger than 128 characters are removed first.
		{"big members go first", []string{"a=1," + big + ",b=2," + strings.Join(mids[:3], ",")}, 512,
			"a=1,b=2," + strings.Join(mids[:3], ",")},
		// Then entries are removed from the end.
		{"then from the right", []string{strings.Join(mids, ",")}, 512, strings.Join(mids[:4], ",")},
		{"big and right", []string{big + "," + strings.Join(mids, ",")}, 512, strings.Join(mids[:4], ",")},
		{"higher limit keeps more", []string{big + "," + strings.Join(mids, ",")}, 1024, big + "," + strings.Join(mids, ",")},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			got, err := trace.ParseTraceState(c.values, c.limit)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("got %q\nwant %q", got, c.want)
			}
			if len(got) > c.limit {
				t.Errorf("len = %d, over limit %d", len(got), c.limit)
			}
		})
	}
}

func TestParseTraceStateRejectsOversizedInput(t *testing.T) {
	v := strings.Repeat(" ", header.MaxLen) + "foo=1"
	if got, err := trace.ParseTraceState([]string{v}, 512); err == nil || got != "" {
		t.Errorf("ParseTraceState(%d bytes) = %q, %v; want dropped", len(v), got, err)
	}
}
