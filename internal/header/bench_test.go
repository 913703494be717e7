package header_test

import (
	"net/http"
	"testing"

	"github.com/jiec/httpmw/internal/header"
)

// Request headers as current browsers send them.
var browserHeaders = []struct {
	name  string
	field string
	value string
}{
	{"chrome", "Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"},
	{"firefox", "Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/png,image/svg+xml,*/*;q=0.8"},
	{"chrome-fetch", "Accept", "application/json, text/plain, */*"},
	{"chrome", "Accept-Encoding", "gzip, deflate, br, zstd"},
	{"firefox", "Accept-Encoding", "gzip, deflate, br, zstd"},
	{"chrome", "Accept-Language", "en-US,en;q=0.9,de;q=0.8"},
	{"firefox", "Accept-Language", "en-US,en;q=0.5"},
	{"chrome", "If-None-Match", `W/"5e15153d-120f"`},
	{"nginx", "If-None-Match", `"66a0f1c2-3c4d"`},
	{"list", "If-None-Match", `"xyzzy", "r2d2xxxx", "c3piozzzz"`},
}

var sink int

// parseBrowserHeader runs the parser a middleware would use on the field and
// returns something derived from every element, so nothing is optimised away.
func parseBrowserHeader(field string, values []string) int {
	n := 0
	switch field {
	case "Accept":
		for e := range header.Elements(values) {
			if mr, ok := header.ParseMediaRange(e); ok {
				n += mr.Q + len(mr.Params)
			}
		}
	case "If-None-Match":
		cur, _ := header.ParseETag(`"r2d2xxxx"`)
		if m, _, _ := header.MatchETags(values, cur, true); m {
			n++
		}
	default:
		for e := range header.Elements(values) {
			if v, q, ok := header.ParseWeighted(e); ok {
				n += q + len(v)
			}
		}
	}
	return n
}

func BenchmarkParseBrowserHeaders(b *testing.B) {
	for _, bh := range browserHeaders {
		b.Run("field="+bh.field+"/browser="+bh.name, func(b *testing.B) {
			values := []string{bh.value}
			b.ReportAllocs()
			for b.Loop() {
				sink += parseBrowserHeader(bh.field, values)
			}
		})
	}
}

func TestParsingBrowserHeadersDoesNotAllocate(t *testing.T) {
	for _, bh := range browserHeaders {
		values := []string{bh.value}
		if n := testing.AllocsPerRun(100, func() { sink += parseBrowserHeader(bh.field, values) }); n != 0 {
			t.Errorf("%s %s: %v allocations per parse, want 0", bh.name, bh.field, n)
		}
	}
	// The Vary merge allocates only the grown slice, and nothing when the
	// name is already there.
	h := http.Header{"Vary": {"Accept-Encoding, Origin"}}
	if n := testing.AllocsPerRun(100, func() { header.AddVary(h, "origin", "Accept-Encoding") }); n != 0 {
		t.Errorf("AddVary of present names: %v allocations, want 0", n)
	}
}

func BenchmarkAddVary(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		h := http.Header{"Vary": {"Origin"}}
		header.AddVary(h, "Accept-Encoding", "origin")
	}
}

// BenchmarkAddVaryLayers is the Vary work of a chain's three varying layers
// on one response: an empty field, then a name each, joined into one line.
func BenchmarkAddVaryLayers(b *testing.B) {
	h := http.Header{}
	b.ReportAllocs()
	for b.Loop() {
		delete(h, "Vary")
		header.AddVary(h, "Accept")
		header.AddVary(h, "Origin")
		header.AddVary(h, "Accept-Encoding")
	}
}

// BenchmarkCommitHeaders is the work a Writer does once per response at the
// commit: FoldKeys and NormalizeVary over a realistic, already clean header.
func BenchmarkCommitHeaders(b *testing.B) {
	h := http.Header{
		"Content-Type": {"application/json"}, "Vary": {"Origin", "Accept-Encoding"}, "Etag": {`"x"`},
		"Cache-Control": {"no-cache"}, "X-Trace-Id": {"abc"}, "Content-Security-Policy": {"default-src 'self'"},
		"X-Content-Type-Options": {"nosniff"}, "X-Frame-Options": {"DENY"}, "Referrer-Policy": {"no-referrer"},
		"Strict-Transport-Security": {"max-age=63072000"}, "Access-Control-Allow-Origin": {"https://a.example"},
		"X-XSS-Protection": {"0"},
	}
	b.ReportAllocs()
	for b.Loop() {
		header.FoldKeys(h)
		header.NormalizeVary(h)
	}
}

func BenchmarkFoldKeys(b *testing.B) {
	// The fields of the chain's 2 KiB response at the commit (bench/).
	h := http.Header{
		"Referrer-Policy": {"same-origin"}, "Permissions-Policy": {"camera=()"}, "Cross-Origin-Opener-Policy": {"same-origin"},
		"Cross-Origin-Resource-Policy": {"same-origin"}, "Vary": {"Origin", "Accept-Encoding", "Accept"},
		"Ratelimit-Policy": {`"default";q=100;w=1`}, "Content-Type": {"application/json"}, "X-Content-Type-Options": {"nosniff"},
		"Content-Security-Policy": {"default-src 'self'"}, "Ratelimit": {`"default";r=99;t=1`}, "X-Trace-Id": {"0af7651916cd43dd8448eb211c80319c"},
	}
	b.ReportAllocs()
	for b.Loop() {
		header.FoldKeys(h)
	}
}
