package compress_test

import (
	"strings"
	"testing"

	"github.com/jiec/httpmw/compress"
)

func TestNewRejectsInvalidConfig(t *testing.T) {
	cases := []struct {
		desc string
		cfg  compress.Config
		want []string // substrings of the joined error
	}{
		{"unknown coding", compress.Config{Encodings: []string{"gzip", "lzma"}}, []string{`compress: Encodings: unknown coding, want zstd, br, gzip or deflate (value "lzma")`}},
		{"duplicate coding", compress.Config{Encodings: []string{"gzip", "GZIP"}}, []string{`Encodings: duplicate coding (value "GZIP")`}},
		{"gzip level", compress.Config{GzipLevel: 10}, []string{`GzipLevel: must be 1..9 (value "10")`}},
		{"deflate level", compress.Config{DeflateLevel: -1}, []string{`DeflateLevel: must be 1..9 (value "-1")`}},
		{"brotli level 11 is refused", compress.Config{BrotliLevel: 11}, []string{`BrotliLevel: must be 1..9 (value "11")`}},
		{"zstd level", compress.Config{ZstdLevel: 23}, []string{`ZstdLevel: must be 1..22`}},
		{"zstd window not a power of two", compress.Config{ZstdWindow: 100000}, []string{`ZstdWindow`}},
		{"zstd window above 8 MiB", compress.Config{ZstdWindow: 16 << 20}, []string{`ZstdWindow`}},
		{"negative MinSize other than AnySize", compress.Config{MinSize: -2}, []string{`MinSize: must be 0 (default), AnySize (-1) or 1..65536 (value "-2")`}},
		{"MinSize above 64 KiB", compress.Config{MinSize: 1 << 20}, []string{`MinSize`}},
		{"bad content type", compress.Config{ContentTypes: []string{"json", "*/json", "text/*+", "application/x*"}}, []string{`(value "json")`, `(value "*/json")`, `(value "text/*+")`, `(value "application/x*")`}},
		{"jitter range", compress.Config{Jitter: 5000}, []string{`Jitter: must be 0..4096`}},
		{"jitter with br", compress.Config{Jitter: 32, Encodings: []string{"gzip", "br"}}, []string{`Encodings: coding has no padding slot for Jitter (value "br")`}},
		{"negative MaxRequestSize other than Unlimited", compress.Config{MaxRequestSize: -2}, []string{`MaxRequestSize: must be 0 (default), Unlimited (-1) or positive (value "-2")`}},
		{"jitter with the default encodings", compress.Config{Jitter: 32}, []string{`Encodings: must be set with Jitter`}},
		{"ratio below 2", compress.Config{MaxRequestRatio: 1}, []string{`MaxRequestRatio: must be at least 2`}},
		{"all problems at once", compress.Config{GzipLevel: 10, MinSize: -5, Encodings: []string{"x"}}, []string{"GzipLevel", "MinSize", "Encodings"}},
	}
	for _, tc := range cases {
		t.Run(tc.desc, func(t *testing.T) {
			m, err := compress.New(tc.cfg)
			if err == nil || m != nil {
				t.Fatalf("New = %v, %v; want an error", m, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestNewAcceptsValidConfig(t *testing.T) {
	for _, cfg := range []compress.Config{
		{},
		{Encodings: []string{}},
		{Encodings: []string{"GZIP", "Zstd"}, GzipLevel: 9, ZstdLevel: 22, ZstdWindow: 8 << 20},
		{BrotliLevel: 9, DeflateLevel: 1, MinSize: 65536, ContentTypes: []string{"*/*"}},
		{Jitter: 4096, Encodings: []string{"zstd", "gzip"}},
		{MinSize: compress.AnySize, MaxRequestSize: compress.Unlimited},
		{DecompressRequests: true, MaxRequestSize: 1, MaxRequestRatio: 2},
	} {
		if _, err := compress.New(cfg); err != nil {
			t.Errorf("New(%+v): %v", cfg, err)
		}
	}
}

func TestConfigIsCopied(t *testing.T) {
	cfg := compress.Config{Encodings: []string{"gzip"}}
	m := newMW(t, cfg)
	cfg.Encodings[0] = "br"
	rec := do(t, m, write(map[string]string{"Content-Type": "text/plain"}, 0, jsonBody(4096), 0), get("br, gzip;q=0.5"))
	if got := rec.Header().Get("Content-Encoding"); got != "gzip" {
		t.Fatalf("Content-Encoding = %q: the caller's slice leaked into the middleware", got)
	}
}

func TestDefaultsAreExposed(t *testing.T) {
	if got := strings.Join(compress.DefaultEncodings(), ","); got != "zstd,br,gzip,deflate" {
		t.Errorf("DefaultEncodings = %s", got)
	}
	ct := compress.DefaultContentTypes()
	ct[0] = "changed"
	if compress.DefaultContentTypes()[0] == "changed" {
		t.Error("DefaultContentTypes returns the internal slice")
	}
}
