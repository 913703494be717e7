package header_test

import (
	"testing"

	"github.com/jiec/httpmw/internal/header"
)

var parseQTests = []struct {
	in string
	q  int
	ok bool
}{
	{"0", 0, true},
	{"1", 1000, true},
	{"0.", 0, true},
	{"1.", 1000, true},
	{"0.5", 500, true},
	{"0.05", 50, true},
	{"0.005", 5, true},
	{"0.123", 123, true},
	{"0.999", 999, true},
	{"1.0", 1000, true},
	{"1.000", 1000, true},
	{"0.000", 0, true},
	// RFC 9110 §12.4.2: at most three digits after the point, never above 1.
	{"0.0001", 0, false},
	{"0.1234", 0, false},
	{"1.001", 0, false},
	{"1.5", 0, false},
	{"2", 0, false},
	{"00", 0, false},
	{"01", 0, false},
	{".5", 0, false},
	{"-0", 0, false},
	{"+1", 0, false},
	{"0,5", 0, false},
	{"0.5a", 0, false},
	{"0.1e1", 0, false},
	{" 0.5", 0, false}, // callers trim OWS
	{"", 0, false},
	{"q", 0, false},
}

func TestParseQ(t *testing.T) {
	for _, tt := range parseQTests {
		q, ok := header.ParseQ(tt.in)
		if q != tt.q || ok != tt.ok {
			t.Errorf("ParseQ(%q) = %d, %v; want %d, %v", tt.in, q, ok, tt.q, tt.ok)
		}
	}
}

var parseWeightedTests = []struct {
	in    string
	value string
	q     int
	ok    bool
}{
	{"gzip", "gzip", 1000, true},
	{"gzip;q=0", "gzip", 0, true},
	{"br ; q=0.5", "br", 500, true},
	{"identity; q=0.001", "identity", 1, true},
	{"*;q=0", "*", 0, true},
	{"en-US;q=0.9", "en-US", 900, true},
	{"gzip;Q=0.5", "gzip", 500, true}, // "q" is case-insensitive
	{"gzip;level=1;q=0.2", "gzip", 200, true},
	{"gzip;;q=0.5;", "gzip", 500, true},        // empty parameters (RFC 9110 §5.6.6)
	{`gzip;foo="a;q=0.1"`, "gzip", 1000, true}, // q inside a quoted string is not q
	{`gzip;foo="a;q=0.1";q=0.3`, "gzip", 300, true},
	// Invalid weights drop the element (RFC 9110 §12.4.2).
	{"gzip;q=1.5", "", 0, false},
	{"gzip;q=0.1234", "", 0, false},
	{"gzip;q=", "", 0, false},
	{"gzip;q", "", 0, false},
	{"gzip;q=abc", "", 0, false},
	{`gzip;q="0.5"`, "", 0, false},
	{`gzip;foo="open`, "", 0, false},
	{";q=0.5", "", 0, false},
	{"", "", 0, false},
	{"gzip deflate", "", 0, false}, // not a token: a missing comma
	{`"gzip"`, "", 0, false},
}

func TestParseWeighted(t *testing.T) {
	for _, tt := range parseWeightedTests {
		value, q, ok := header.ParseWeighted(tt.in)
		if value != tt.value || q != tt.q || ok != tt.ok {
			t.Errorf("ParseWeighted(%q) = %q, %d, %v; want %q, %d, %v", tt.in, value, q, ok, tt.value, tt.q, tt.ok)
		}
	}
}
