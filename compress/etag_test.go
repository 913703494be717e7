package compress_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/jiec/httpmw/cache"
	"github.com/jiec/httpmw/compress"
)

var allCodings = []string{"gzip", "br", "zstd", "deflate"}

// TestETagSuffixPerCoding: an encoded response's strong ETag gets the coding
// as a suffix, so it stays strong (If-Match can use it, RFC 9110 §13.1.1)
// and differs per representation (§8.8.3); weak tags may be shared by
// codings and stay as they are.
func TestETagSuffixPerCoding(t *testing.T) {
	m := newMW(t, compress.Config{})
	big, small := jsonBody(4096), jsonBody(100)
	ct := func(kv ...string) map[string]string {
		h := map[string]string{"Content-Type": "application/json"}
		for i := 0; i < len(kv); i += 2 {
			h[kv[i]] = kv[i+1]
		}
		return h
	}
	for _, enc := range allCodings {
		cases := []struct {
			desc string
			h    http.HandlerFunc
			req  *http.Request
			want string
		}{
			{"strong tag of an encoded 200", write(ct("Etag", `"v1"`), 0, big, 0), get(enc), `"v1-` + enc + `"`},
			{"strong tag of an encoded 404", write(ct("Etag", `"v1"`), http.StatusNotFound, big, 0), get(enc), `"v1-` + enc + `"`},
			{"weak tag unchanged", write(ct("Etag", `W/"v1"`), 0, big, 0), get(enc), `W/"v1"`},
			{"malformed tag unchanged", write(ct("Etag", `v1`), 0, big, 0), get(enc), `v1`},
			{"strong tag of a body below MinSize unchanged", write(ct("Etag", `"v1"`), 0, small, 0), get(enc), `"v1"`},
			{"strong tag without Accept-Encoding unchanged", write(ct("Etag", `"v1"`), 0, big, 0), get(), `"v1"`},
			{"no-transform keeps the tag", write(ct("Etag", `"v1"`, "Cache-Control", "no-transform"), 0, big, 0), get(enc), `"v1"`},
			{"tag of an already encoded body unchanged", write(ct("Etag", `"v1"`, "Content-Encoding", "gzip"), 0, big, 0), get(enc), `"v1"`},
			{"304 to a request that negotiated a coding (RFC 9111 §4.3.4)", write(ct("Etag", `"v1"`), http.StatusNotModified, nil, 0), get(enc), `"v1-` + enc + `"`},
			{"304 weak tag unchanged", write(ct("Etag", `W/"v1"`), http.StatusNotModified, nil, 0), get(enc), `W/"v1"`},
			{"304 without Accept-Encoding unchanged", write(ct("Etag", `"v1"`), http.StatusNotModified, nil, 0), get(), `"v1"`},
			{"304 to If-None-Match naming the unsuffixed tag keeps it (the client holds an identity response)",
				write(ct("Etag", `"v1"`), http.StatusNotModified, nil, 0), withHdr(get(enc), "If-None-Match", `"v0", "v1"`), `"v1"`},
			{"304 to If-None-Match naming both forms gets the suffix",
				write(ct("Etag", `"v1"`), http.StatusNotModified, nil, 0), withHdr(get(enc), "If-None-Match", `"v1", "v1-`+enc+`"`), `"v1-` + enc + `"`},
		}
		for _, tc := range cases {
			rec := do(t, m, tc.h, tc.req)
			if got := rec.Header().Values("Etag"); len(got) != 1 || got[0] != tc.want {
				t.Errorf("%s: %s: ETag %q, want %q", enc, tc.desc, got, tc.want)
			}
		}
	}
}

func withHdr(r *http.Request, kv ...string) *http.Request {
	for i := 0; i < len(kv); i += 2 {
		r.Header.Add(kv[i], kv[i+1])
	}
	return r
}

// TestConditionalTagsLoseTheSuffix: inner handlers see If-Match and
// If-None-Match with the coding suffixes removed from strong tags (any of the
// four codings, whatever the request negotiates), line by line; the caller's
// header is left untouched.
func TestConditionalTagsLoseTheSuffix(t *testing.T) {
	long := `"` + strings.Repeat("x", 9000) + `-gzip"`
	cases := []struct {
		desc  string
		field string
		in    []string
		want  []string // nil: as sent
	}{
		{"gzip suffix", "If-None-Match", []string{`"v1-gzip"`}, []string{`"v1"`}},
		{"each coding, lists and lines", "If-Match", []string{`"a-gzip", "b-br"`, `"c-zstd" ,"d-deflate", "e"`}, []string{`"a", "b"`, `"c", "d", "e"`}},
		{"weak tags lose theirs too (a CDN weakened the tag)", "If-None-Match", []string{`W/"v1-gzip", "v2-br"`}, []string{`W/"v1", "v2"`}},
		{"malformed elements are kept", "If-Match", []string{`v1-gzip, "v2-gzip"`}, []string{`v1-gzip, "v2"`}},
		{"lines are kept: an unterminated tag ends its line", "If-Match", []string{`"`, ``, `"0-br"`}, []string{`"`, ``, `"0"`}},
		{"no suffix: untouched", "If-None-Match", []string{`"v1", W/"v2"`}, nil},
		{"star: untouched", "If-Match", []string{`*`}, nil},
		{"unknown coding: untouched", "If-Match", []string{`"v1-compress"`, `"v1-gzipx"`}, nil},
		{"suffix is case-sensitive (we write lowercase)", "If-Match", []string{`"v1-GZIP"`}, nil},
		{"a bare suffix is not one", "If-Match", []string{`"-gzip"`, `"gzip"`}, nil},
		{"a suffix without its dash is not one", "If-Match", []string{`"v1gzip"`}, nil},
		{"If-Range is not rewritten (RFC 9110 §13.1.5: same bytes)", "If-Range", []string{`"v1-gzip"`}, nil},
		{"oversized field is left for the inner handler to refuse", "If-None-Match", []string{long}, nil},
	}
	m := newMW(t, compress.Config{})
	off := newMW(t, compress.Config{Encodings: []string{}, DecompressRequests: true})
	for _, tc := range cases {
		for _, ae := range []string{"", "gzip", "br"} {
			var seen []string
			h := func(w http.ResponseWriter, r *http.Request) { seen = r.Header[tc.field] }
			req := httptest.NewRequest(http.MethodPut, "/", nil)
			if ae != "" {
				req.Header.Set("Accept-Encoding", ae)
			}
			req.Header[tc.field] = slices.Clone(tc.in)
			before := req.Header.Clone()
			do(t, m, h, req)
			want := tc.want
			if want == nil {
				want = tc.in
			}
			if !slices.Equal(seen, want) {
				t.Errorf("%s (Accept-Encoding %q): handler saw %q, want %q", tc.desc, ae, seen, want)
			}
			if !equalHeader(req.Header, before) {
				t.Errorf("%s: caller's header changed to %q", tc.desc, req.Header)
			}
			do(t, off, h, req)
			if !slices.Equal(seen, tc.in) {
				t.Errorf("%s: with response compression off, handler saw %q, want it as sent", tc.desc, seen)
			}
		}
	}
}

func equalHeader(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// TestNoAllocationsWithoutConditionalFields: the inbound rewrite costs no
// allocation when no tag needs it, nor does Vary. (The encoding path is measured by
// BenchmarkMiddleware: its pools are not reliable under -race.)
func TestNoAllocationsWithoutConditionalFields(t *testing.T) {
	m := newMW(t, compress.Config{})
	body := jsonBody(1024)
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header()["Content-Type"] = ctJSON
		_, _ = w.Write(body)
	}))
	for _, tc := range []struct{ desc, ae, inm string }{
		{"pass-through", "", ""},
		{"pass-through, unsuffixed If-None-Match", "", `"v1"`},
		{"pass-through, unsuffixed If-Match and If-None-Match lists", "", `"v1", W/"v2-gzipx", "v3-gzipx"`},
	} {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		if tc.ae != "" {
			req.Header.Set("Accept-Encoding", tc.ae)
		}
		if tc.inm != "" {
			req.Header.Set("If-None-Match", tc.inm)
			req.Header.Set("If-Match", tc.inm)
		}
		w := &discardWriter{h: make(http.Header)}
		h.ServeHTTP(w, req) // warm the pools
		if n := testing.AllocsPerRun(100, func() {
			clear(w.h)
			h.ServeHTTP(w, req)
		}); n != 0 {
			// The response's own Vary value comes from a slab.
			t.Errorf("%s: %v allocations per request, want 0", tc.desc, n)
		}
	}
}

// TestSuffixedTagsWithCache stacks compress and cache in both orders: the
// suffixed tag of an encoded GET revalidates (304 with the 200's tag, every
// coding) and, with compress outside cache and a Validator, protects a PUT
// through If-Match (strong comparison) — which the weakened tags compress
// used to send could never do (always 412).
func TestSuffixedTagsWithCache(t *testing.T) {
	big := jsonBody(4096)
	type stack struct {
		name  string
		cache cache.Config
		tag   string // handler's ETag ("" for none)
		body  []byte
		outer bool // compress outside cache
	}
	stacks := []stack{
		{"compress>cache, Validator", validatorConfig(`"v1"`), "", big, true},
		{"compress>cache, handler ETag", cache.Config{}, `"v1"`, big, true},
		{"compress>cache, generated ETag", cache.Config{}, "", big, true},
		{"cache>compress, handler ETag", cache.Config{}, `"v1"`, big, false},
		{"cache>compress, generated ETag", cache.Config{}, "", big, false},
		{"compress>cache, Validator, body below MinSize", validatorConfig(`"v1"`), "", jsonBody(100), true},
		{"cache>compress, handler ETag, body below MinSize", cache.Config{}, `"v1"`, jsonBody(100), false},
	}
	for _, st := range stacks {
		cm := newMW(t, compress.Config{})
		ca, err := cache.New(st.cache)
		if err != nil {
			t.Fatal(err)
		}
		ran := false
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ran = true
			w.Header().Set("Content-Type", "application/json")
			if st.tag != "" {
				w.Header().Set("Etag", st.tag)
			}
			if r.Method == http.MethodPut {
				w.WriteHeader(http.StatusNoContent)
				return
			}
			_, _ = w.Write(st.body)
		})
		var hh http.Handler
		if st.outer {
			hh = cm.Handler(ca.Handler(h))
		} else {
			hh = ca.Handler(cm.Handler(h))
		}
		serve := func(method, ae string, kv ...string) *httptest.ResponseRecorder {
			r := httptest.NewRequest(method, "/", nil)
			if ae != "" {
				r.Header.Set("Accept-Encoding", ae)
			}
			withHdr(r, kv...)
			rec := httptest.NewRecorder()
			ran = false
			hh.ServeHTTP(rec, r)
			return rec
		}
		for _, enc := range allCodings {
			g := serve(http.MethodGet, enc)
			tag := g.Header().Get("Etag")
			if tag == "" || strings.HasPrefix(tag, "W/") {
				t.Fatalf("%s %s: GET ETag %q, want a strong tag", st.name, enc, tag)
			}
			if compressed := len(st.body) >= 1024; compressed != (g.Header().Get("Content-Encoding") == enc) {
				t.Fatalf("%s %s: Content-Encoding %q", st.name, enc, g.Header().Get("Content-Encoding"))
			}
			nm := serve(http.MethodGet, enc, "If-None-Match", tag)
			if nm.Code != http.StatusNotModified || nm.Header().Get("Etag") != tag {
				t.Errorf("%s %s: If-None-Match %s: %d with ETag %q, want 304 with the 200's tag", st.name, enc, tag, nm.Code, nm.Header().Get("Etag"))
			}
			if !st.outer || st.cache.Validator == nil {
				continue
			}
			other := `"v1-` + allCodings[(slices.Index(allCodings, enc)+1)%len(allCodings)] + `"`
			for _, pc := range []struct {
				desc   string
				ae, im string
				want   int
				runs   bool
			}{
				{"If-Match with the GET's tag", enc, tag, http.StatusNoContent, true},
				{"If-Match with the GET's tag, no Accept-Encoding on the PUT", "", tag, http.StatusNoContent, true},
				// The tags of all codings name the same state of the resource:
				// a client that read the br body may update what it read.
				{"If-Match with another coding's suffix", enc, other, http.StatusNoContent, true},
				{"If-Match with a stale tag", enc, `"v0-` + enc + `"`, http.StatusPreconditionFailed, false},
				{"If-Match with the weak form fails the strong comparison", enc, `W/"v1"`, http.StatusPreconditionFailed, false},
			} {
				rec := serve(http.MethodPut, pc.ae, "If-Match", pc.im)
				if rec.Code != pc.want || ran != pc.runs {
					t.Errorf("%s %s: PUT %s (%s): %d, handler ran %t; want %d, %t", st.name, enc, pc.desc, pc.im, rec.Code, ran, pc.want, pc.runs)
				}
			}
		}
	}
}

// TestHandlerTagEndingInACodingSuffix documents the accepted ambiguity: the
// middleware cannot tell a suffix it added from a handler tag that happens to
// end in "-gzip". Such a tag round-trips when encoded ("v1-gzip-gzip" loses
// one suffix), but when sent unencoded (small body, identity client) and
// echoed back it loses its ending, and then matches nothing: If-None-Match
// gets a full 200 instead of a 304 and If-Match a 412. Both outcomes are
// safe (no stale 304, no lost update); avoid such tags, or mark them weak.
func TestHandlerTagEndingInACodingSuffix(t *testing.T) {
	cm := newMW(t, compress.Config{})
	ca := validatorCache(t, `"v1-gzip"`)
	var body []byte
	hh := cm.Handler(ca.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})))
	cases := []struct {
		desc       string
		body       []byte
		ae         string
		wantTag    string
		method     string
		field      string
		wantStatus int
	}{
		{"encoded: GET revalidates", jsonBody(4096), "gzip", `"v1-gzip-gzip"`, http.MethodGet, "If-None-Match", http.StatusNotModified},
		{"encoded: PUT If-Match holds", jsonBody(4096), "gzip", `"v1-gzip-gzip"`, http.MethodPut, "If-Match", http.StatusOK},
		{"identity: GET gets a 200, not a 304 (ambiguity)", jsonBody(4096), "", `"v1-gzip"`, http.MethodGet, "If-None-Match", http.StatusOK},
		{"identity: PUT If-Match fails (ambiguity)", jsonBody(100), "gzip", `"v1-gzip"`, http.MethodPut, "If-Match", http.StatusPreconditionFailed},
	}
	for _, tc := range cases {
		body = tc.body
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if tc.ae != "" {
			r.Header.Set("Accept-Encoding", tc.ae)
		}
		g := httptest.NewRecorder()
		hh.ServeHTTP(g, r)
		tag := g.Header().Get("Etag")
		if tag != tc.wantTag {
			t.Fatalf("%s: GET ETag %q, want %q", tc.desc, tag, tc.wantTag)
		}
		r = httptest.NewRequest(tc.method, "/", nil)
		if tc.ae != "" {
			r.Header.Set("Accept-Encoding", tc.ae)
		}
		r.Header.Set(tc.field, tag)
		rec := httptest.NewRecorder()
		hh.ServeHTTP(rec, r)
		if rec.Code != tc.wantStatus {
			t.Errorf("%s: %s %s %s: %d, want %d", tc.desc, tc.method, tc.field, tag, rec.Code, tc.wantStatus)
		}
	}
}

// TestValidatorOutsideCompress: cache outside compress compares the
// Validator's tag "v1" before compress runs, while the encoded 200 carries
// "v1-gzip"; cache matches the suffixed tag itself, so revalidation and
// If-Match succeed as with compress outside cache, and stale tags still fail.
func TestValidatorOutsideCompress(t *testing.T) {
	cm := newMW(t, compress.Config{})
	ca := validatorCache(t, `"v1"`)
	hh := ca.Handler(cm.Handler(write(map[string]string{"Content-Type": "application/json"}, 0, jsonBody(4096), 0)))
	for _, tc := range []struct {
		method, field, tag string
		want               int
	}{
		{http.MethodGet, "If-None-Match", `"v1-gzip"`, http.StatusNotModified},
		{http.MethodPut, "If-Match", `"v1-gzip"`, http.StatusOK},
		{http.MethodGet, "If-None-Match", `"v0-gzip"`, http.StatusOK},
		{http.MethodPut, "If-Match", `"v0-gzip"`, http.StatusPreconditionFailed},
	} {
		r := withHdr(get("gzip"), tc.field, tc.tag)
		r.Method = tc.method
		rec := httptest.NewRecorder()
		hh.ServeHTTP(rec, r)
		if rec.Code != tc.want {
			t.Errorf("%s %s %s: %d, want %d", tc.method, tc.field, tc.tag, rec.Code, tc.want)
		}
		if tc.want == http.StatusNotModified && rec.Header().Get("Etag") != tc.tag {
			t.Errorf("%s %s %s: 304 ETag %q, want %s", tc.method, tc.field, tc.tag, rec.Header().Get("Etag"), tc.tag)
		}
	}
}

// validatorConfig is a cache Config whose Validator always reports tag.
func validatorConfig(tag string) cache.Config {
	return cache.Config{Validator: func(*http.Request) (cache.Validators, bool) {
		return cache.Validators{ETag: tag}, true
	}}
}

func validatorCache(t *testing.T, tag string) *cache.Middleware {
	t.Helper()
	ca, err := cache.New(validatorConfig(tag))
	if err != nil {
		t.Fatal(err)
	}
	return ca
}
