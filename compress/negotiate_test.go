package compress_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/jiec/httpmw/compress"
	"github.com/jiec/httpmw/internal/header"
)

// negotiationCases is shared with FuzzAcceptEncoding as seeds.
var negotiationCases = []struct {
	desc      string
	encodings []string // Config.Encodings; nil = default (zstd, br, gzip, deflate)
	lines     []string // Accept-Encoding field lines; nil = absent
	want      string   // Content-Encoding; "" = identity
}{
	{desc: "absent field means identity (deviates from RFC 9110 §12.5.3, which allows any coding; as every peer does)", lines: nil, want: ""},
	{desc: "empty field means identity only (RFC 9110 §12.5.3)", lines: []string{""}, want: ""},
	{desc: "single coding", lines: []string{"gzip"}, want: "gzip"},
	{desc: "codings are case-insensitive", lines: []string{"GZip"}, want: "gzip"},
	{desc: "x-gzip is gzip (RFC 9110 §8.4.1.3; gzhttp, httpcompression, gziphandler do not know it)", lines: []string{"x-gzip"}, want: "gzip"},
	{desc: "q=0 excludes (chi#1069)", lines: []string{"gzip;q=0"}, want: ""},
	{desc: "Q parameter name is case-insensitive", lines: []string{"gzip;Q=0"}, want: ""},
	{desc: "q=0 with OWS", lines: []string{"gzip ; q=0"}, want: ""},
	{desc: "star alone picks the server's first (RFC 9110 §12.5.3; gzhttp, httpcompression, chi ignore star)", lines: []string{"*"}, want: "zstd"},
	{desc: "star q=0 excludes everything", lines: []string{"*;q=0"}, want: ""},
	{desc: "star covers unlisted codings only", lines: []string{"zstd;q=0, *;q=0.5"}, want: "br"},
	{desc: "gzip q=0 then star picks another", lines: []string{"gzip;q=0, *"}, want: "zstd"},
	{desc: "identity;q=0 alone: nothing acceptable, send identity", lines: []string{"identity;q=0"}, want: ""},
	{desc: "identity;q=0 with gzip", lines: []string{"identity;q=0, gzip"}, want: "gzip"},
	{desc: "client q beats server order (RFC 9110 §12.5.3; gzhttp agrees, httpcompression PreferServer does not)", lines: []string{"zstd;q=0.5, gzip"}, want: "gzip"},
	{desc: "higher q wins", lines: []string{"br;q=1, gzip;q=0.5"}, want: "br"},
	{desc: "equal q: server order (Chrome)", lines: []string{"gzip, deflate, br, zstd"}, want: "zstd"},
	{desc: "equal q: server order (Safari)", lines: []string{"gzip, deflate, br"}, want: "br"},
	{desc: "a coding ties with identity and wins (powertools#5691)", lines: []string{"gzip, identity"}, want: "gzip"},
	{desc: "identity preferred by q", lines: []string{"gzip;q=0.5, identity"}, want: ""},
	{desc: "star gives identity its q when unlisted", lines: []string{"gzip;q=0.4, *;q=0.5"}, want: "zstd"},
	{desc: "explicit identity beats star", lines: []string{"*;q=0.5, identity;q=0.6"}, want: ""},
	{desc: "q above 1 is invalid: element ignored", lines: []string{"gzip;q=2"}, want: ""},
	{desc: "q with 4 decimals is invalid", lines: []string{"gzip;q=0.1234, br"}, want: "br"},
	{desc: "q=abc is invalid", lines: []string{"gzip;q=abc, deflate"}, want: "deflate"},
	{desc: "q=1.000 is valid", lines: []string{"gzip;q=1.000"}, want: "gzip"},
	{desc: "q=1.001 is invalid", lines: []string{"gzip;q=1.001"}, want: ""},
	{desc: "several field lines form one list", lines: []string{"gzip;q=0.5", "br"}, want: "br"},
	{desc: "empty elements are tolerated (RFC 9110 §5.6.1)", lines: []string{", , gzip ,,"}, want: "gzip"},
	{desc: "unknown codings are skipped", lines: []string{"compress, snappy, gzip"}, want: "gzip"},
	{desc: "no substring matching", lines: []string{"gzipx, xgzip"}, want: ""},
	{desc: "first listing of a coding counts", lines: []string{"gzip;q=0, gzip"}, want: ""},
	{desc: "other parameters are ignored", lines: []string{"gzip;level=1;q=0.3, deflate;q=0.2"}, want: "gzip"},
	{desc: "deflate only", lines: []string{"deflate"}, want: "deflate"},
	{desc: "custom server order", encodings: []string{"gzip", "zstd"}, lines: []string{"zstd, gzip"}, want: "gzip"},
	{desc: "only configured codings", encodings: []string{"gzip"}, lines: []string{"br, zstd"}, want: ""},
	{desc: "x-gzip needs gzip configured", encodings: []string{"br"}, lines: []string{"x-gzip"}, want: ""},
	{desc: "empty Encodings disables compression", encodings: []string{}, lines: []string{"gzip"}, want: ""},
	{desc: "field longer than header.MaxLen is ignored", lines: []string{strings.Repeat("a, ", header.MaxLen/3) + "gzip"}, want: ""},
}

func TestNegotiationFollowsRFC9110(t *testing.T) {
	body := jsonBody(4096)
	for _, tc := range negotiationCases {
		t.Run(tc.desc, func(t *testing.T) {
			m := newMW(t, compress.Config{Encodings: tc.encodings})
			req := get()
			if tc.lines != nil {
				req.Header["Accept-Encoding"] = tc.lines // kept as sent, empty lines too
			}
			rec := do(t, m, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write(body)
			}, req)
			if got := rec.Header().Get("Content-Encoding"); got != tc.want {
				t.Fatalf("Accept-Encoding %q: Content-Encoding = %q, want %q", tc.lines, got, tc.want)
			}
			if got := decode(t, tc.want, rec.Body.Bytes()); string(got) != string(body) {
				t.Fatalf("decoded body differs (%d vs %d bytes)", len(got), len(body))
			}
			wantVary := 1
			if tc.encodings != nil && len(tc.encodings) == 0 {
				wantVary = 0
			}
			if got := varyHas(rec.Header(), "Accept-Encoding"); got != wantVary {
				t.Fatalf("Vary lists Accept-Encoding %d times, want %d (Vary %q)", got, wantVary, rec.Header().Values("Vary"))
			}
		})
	}
}
