package compress_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/jiec/httpmw/compress"
	"github.com/jiec/httpmw/internal/header"
)

// referenceNegotiate is a plain restatement of RFC 9110 §12.5.3 (as
// documented on the package), used as the oracle for FuzzAcceptEncoding.
func referenceNegotiate(lines, prefs []string) string {
	if len(lines) == 0 || len(prefs) == 0 || header.TotalLen(lines) > header.MaxLen {
		return "identity"
	}
	q := map[string]int{}
	n := 0
	for e := range header.Elements(lines) {
		if n++; n > header.MaxElements {
			break
		}
		name, w, ok := header.ParseWeighted(e)
		if !ok {
			continue
		}
		name = strings.ToLower(name)
		if name == "x-gzip" {
			name = "gzip"
		}
		if _, seen := q[name]; !seen {
			q[name] = w
		}
	}
	weight := func(c string) (int, bool) {
		if w, ok := q[c]; ok {
			return w, true
		}
		w, ok := q["*"]
		return w, ok
	}
	best, bestQ := "identity", 0
	for _, c := range prefs {
		if w, ok := weight(c); ok && w > bestQ {
			best, bestQ = c, w
		}
	}
	if w, ok := weight("identity"); ok && best != "identity" && w > bestQ {
		return "identity"
	}
	return best
}

func FuzzAcceptEncoding(f *testing.F) {
	for _, tc := range negotiationCases {
		f.Add(strings.Join(tc.lines, "\n"))
	}
	f.Add("gzip;q=0.5;level=\"a,b\", br;q=0.5, zstd;q=0.500")
	f.Add("*;q=0.001, identity;q=0.001")
	prefs := [][]string{compress.DefaultEncodings(), {"gzip", "deflate"}, {"br"}}
	mws := make([]*compress.Middleware, len(prefs))
	for i, p := range prefs {
		mws[i] = newMW(f, compress.Config{Encodings: p})
	}
	f.Fuzz(func(t *testing.T, field string) {
		lines := strings.Split(field, "\n")
		for i, m := range mws {
			got := compress.Negotiate(m, lines)
			if want := referenceNegotiate(lines, prefs[i]); got != want {
				t.Fatalf("Accept-Encoding %q with %v: got %s, want %s", lines, prefs[i], got, want)
			}
		}
	})
}

func FuzzRequestContentEncoding(f *testing.F) {
	f.Add("gzip", []byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff\x01\x00\x00\xff\xff\x00\x00\x00\x00\x00\x00\x00\x00"))
	f.Add("br, zstd", []byte{0x28, 0xb5, 0x2f, 0xfd})
	f.Add("deflate", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	f.Add("x-gzip,,identity", []byte{})
	f.Add("lzma", []byte("x"))
	const limit = 4096
	m := newMW(f, compress.Config{DecompressRequests: true, MaxRequestSize: limit, MaxRequestRatio: 10})
	f.Fuzz(func(t *testing.T, ce string, body []byte) {
		var read int
		h := func(w http.ResponseWriter, r *http.Request) {
			b, err := io.ReadAll(r.Body)
			read = len(b)
			if err != nil {
				w.WriteHeader(http.StatusBadRequest)
			}
		}
		req := post("", body)
		req.Header["Content-Encoding"] = strings.Split(ce, "\n")
		rec := do(t, m, h, req)
		switch rec.Code {
		case 200, 400, 413, 415:
		default:
			t.Fatalf("status %d", rec.Code)
		}
		if read > limit {
			t.Fatalf("handler read %d decoded bytes, limit %d", read, limit)
		}
		if rec.Code == 413 && !bytes.Contains(rec.Body.Bytes(), []byte(`"status":413`)) {
			t.Fatalf("413 without problem details: %s", rec.Body)
		}
	})
}

// FuzzConditionalTags checks the inbound rewrite of If-Match and
// If-None-Match against its definition: element by element, the handler sees
// what the client sent, or (for a strong tag ending in "-" and a coding) the
// same tag without that ending; the caller's header is never modified.
func FuzzConditionalTags(f *testing.F) {
	for _, s := range []string{`"v1-gzip"`, `"a-br", W/"b-zstd", *`, `"x-deflate"` + "\n" + `"y"`, `"-gzip"`, `"a\", "b-gzip"`, `W/"`, `"a-gzip-gzip"`, ``} {
		f.Add(s)
	}
	m, err := compress.New(compress.Config{})
	if err != nil {
		f.Fatal(err)
	}
	var seen []string
	h := m.Handler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { seen = r.Header["If-Match"] }))
	f.Fuzz(func(t *testing.T, s string) {
		in := strings.Split(s, "\n")
		r := get("gzip")
		r.Header["If-Match"] = in
		before := strings.Join(in, "\n")
		seen = nil
		h.ServeHTTP(discard{}, r)
		if strings.Join(r.Header["If-Match"], "\n") != before {
			t.Fatalf("caller's If-Match changed to %q", r.Header["If-Match"])
		}
		var want, got []string
		for e := range header.ETags(in) {
			want = append(want, e)
		}
		for e := range header.ETags(seen) {
			got = append(got, e)
		}
		if header.TotalLen(in) > header.MaxLen {
			got = want // left as sent: checked below through seen
			if strings.Join(seen, "\n") != before {
				t.Fatalf("oversized field rewritten: %q", seen)
			}
		}
		if len(got) != len(want) {
			t.Fatalf("%q became %q: %d elements, want %d", in, seen, len(got), len(want))
		}
		for i, w := range want {
			if got[i] == w {
				continue
			}
			_, ok := header.ParseETag(w)
			if !ok || !strings.HasPrefix(w, got[i][:max(len(got[i])-1, 0)]) {
				t.Fatalf("element %q became %q", w, got[i])
			}
			suffix := w[len(got[i])-1 : len(w)-1]
			if suffix != "-gzip" && suffix != "-br" && suffix != "-zstd" && suffix != "-deflate" || len(got[i]) < 3 {
				t.Fatalf("element %q became %q (removed %q)", w, got[i], suffix)
			}
		}
	})
}

// discard is a ResponseWriter that drops everything.
type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) WriteHeader(int)             {}
func (discard) Write(p []byte) (int, error) { return len(p), nil }
