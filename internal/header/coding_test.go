package header_test

import (
	"testing"

	"github.com/jiec/httpmw/internal/header"
)

func TestCutCodingSuffix(t *testing.T) {
	for _, tt := range []struct{ in, base, suffix string }{
		{"v1-gzip", "v1", "gzip"},
		{"v1-br", "v1", "br"},
		{"v1-zstd", "v1", "zstd"},
		{"v1-deflate", "v1", "deflate"},
		{"a-b-gzip", "a-b", "gzip"},
		{"v1-gzip-br", "v1-gzip", "br"}, // only the last suffix
		{"-gzip", "-gzip", ""},          // no base
		{"gzip", "gzip", ""},
		{"v1gzip", "v1gzip", ""},   // no dash
		{"v1-GZIP", "v1-GZIP", ""}, // names are lower case
		{"v1-identity", "v1-identity", ""},
		{"v1-compress", "v1-compress", ""},
		{"v1-", "v1-", ""},
		{"", "", ""},
	} {
		base, suffix := header.CutCodingSuffix(tt.in)
		if base != tt.base || suffix != tt.suffix {
			t.Errorf("CutCodingSuffix(%q) = %q, %q, want %q, %q", tt.in, base, suffix, tt.base, tt.suffix)
		}
	}
}

func FuzzCutCodingSuffix(f *testing.F) {
	for _, s := range []string{"v1-gzip", "v1-br", "-zstd", "x-deflate", "v1", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		base, suffix := header.CutCodingSuffix(s)
		if suffix == "" {
			if base != s {
				t.Fatalf("CutCodingSuffix(%q): no suffix but base %q", s, base)
			}
			return
		}
		if base == "" || base+"-"+suffix != s || !within(base, s) {
			t.Fatalf("CutCodingSuffix(%q) = %q, %q", s, base, suffix)
		}
		switch suffix {
		case "gzip", "br", "zstd", "deflate":
		default:
			t.Fatalf("CutCodingSuffix(%q): suffix %q", s, suffix)
		}
	})
}
