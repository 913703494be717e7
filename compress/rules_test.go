package compress_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/jiec/httpmw/cache"
	"github.com/jiec/httpmw/compress"
)

// write returns a handler that sets the headers and status and writes body
// in chunks of chunk bytes (all at once when chunk is 0).
func write(hdr map[string]string, status int, body []byte, chunk int) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for k, v := range hdr {
			w.Header().Set(k, v)
		}
		if status != 0 {
			w.WriteHeader(status)
		}
		if chunk == 0 {
			chunk = len(body) + 1
		}
		for p := body; len(p) > 0; {
			n := min(chunk, len(p))
			_, _ = w.Write(p[:n])
			p = p[n:]
		}
	}
}

var png = append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 4000)...)

func TestCompressionRules(t *testing.T) {
	big, small := jsonBody(4096), jsonBody(1023)
	html := []byte("<!DOCTYPE html><html><body>" + string(bytes.Repeat([]byte("<p>hello</p>"), 300)) + "</body></html>")
	json := map[string]string{"Content-Type": "application/json"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{"Content-Type": "application/json"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	cases := []struct {
		desc     string
		h        http.HandlerFunc
		compress bool
		check    func(t *testing.T, h http.Header)
	}{
		{desc: "large JSON is compressed", h: write(json, 0, big, 0), compress: true},
		{desc: "large JSON written in 7-byte pieces is compressed", h: write(json, 0, big, 7), compress: true},
		{desc: "body below MinSize is not", h: write(json, 0, small, 0)},
		{desc: "body of exactly MinSize is", h: write(json, 0, jsonBody(1024), 0), compress: true},
		{desc: "empty body is not", h: write(json, 0, nil, 0)},
		{desc: "Content-Length >= MinSize decides at once and is removed",
			h: write(with("Content-Length", "4096"), 0, big, 0), compress: true,
			check: func(t *testing.T, h http.Header) {
				if v := h.Get("Content-Length"); v != "" {
					t.Errorf("Content-Length = %q, want none", v)
				}
			}},
		{desc: "Content-Length below MinSize is not compressed and kept",
			h: write(with("Content-Length", "1023"), 0, small, 0),
			check: func(t *testing.T, h http.Header) {
				if v := h.Get("Content-Length"); v != "1023" {
					t.Errorf("Content-Length = %q, want 1023", v)
				}
			}},
		{desc: "media type parameters are ignored", h: write(with("Content-Type", "application/json; charset=utf-8"), 0, big, 0), compress: true},
		{desc: "+json suffix types are compressed", h: write(with("Content-Type", "application/vnd.api+json"), 0, big, 0), compress: true},
		{desc: "media type is case-insensitive", h: write(with("Content-Type", "Text/HTML"), 0, big, 0), compress: true},
		{desc: "text/event-stream is compressed", h: write(with("Content-Type", "text/event-stream"), 0, big, 0), compress: true},
		{desc: "image/png is not", h: write(with("Content-Type", "image/png"), 0, png, 0)},
		{desc: "application/octet-stream is not", h: write(with("Content-Type", "application/octet-stream"), 0, big, 0)},
		{desc: "missing Content-Type is sniffed and set (golang/go#31753)", h: write(nil, 0, html, 100), compress: true,
			check: func(t *testing.T, h http.Header) {
				if v := h.Get("Content-Type"); v != "text/html; charset=utf-8" {
					t.Errorf("Content-Type = %q, want the sniffed text/html", v)
				}
			}},
		{desc: "missing Content-Type sniffed as binary is not compressed", h: write(nil, 0, png, 0)},
		{desc: "Content-Type set to nil (no sniffing wanted) is not compressed",
			h: func(w http.ResponseWriter, _ *http.Request) {
				w.Header()["Content-Type"] = nil
				_, _ = w.Write(big)
			}},
		{desc: "already encoded body is left alone (gziphandler#29)", h: write(with("Content-Encoding", "gzip"), 0, big, 0),
			check: func(t *testing.T, h http.Header) {
				if v := h.Values("Content-Encoding"); len(v) != 1 || v[0] != "gzip" {
					t.Errorf("Content-Encoding = %q, want the handler's only", v)
				}
			}},
		{desc: "Content-Encoding identity set by the handler is left alone", h: write(with("Content-Encoding", "identity"), 0, big, 0),
			check: func(t *testing.T, h http.Header) {
				if v := h.Get("Content-Encoding"); v != "identity" {
					t.Errorf("Content-Encoding = %q", v)
				}
			}},
		{desc: "206 is not compressed (RFC 9110 §14.4: Content-Range counts the unencoded bytes; httpcompression and chi compress it)", h: write(with("Content-Range", "bytes 0-4095/9000"), http.StatusPartialContent, big, 0)},
		{desc: "Content-Range on 200 is not compressed", h: write(with("Content-Range", "bytes 0-4095/4096"), 0, big, 0)},
		{desc: "Cache-Control no-transform is honoured (RFC 9110 §7.7)", h: write(with("Cache-Control", "public, No-Transform"), 0, big, 0)},
		{desc: "Cache-Control without no-transform is compressed", h: write(with("Cache-Control", "no-cache, max-age=3"), 0, big, 0), compress: true},
		{desc: "204 gets no Content-Encoding and no body (gziphandler#5)", h: write(json, http.StatusNoContent, nil, 0)},
		{desc: "304 gets no Content-Encoding but keeps Vary (RFC 9110 §15.4.5)", h: write(json, http.StatusNotModified, nil, 0)},
		{desc: "304 of a no-transform response keeps its strong ETag",
			h: write(with("Etag", `"v1"`, "Cache-Control", "no-transform"), http.StatusNotModified, nil, 0),
			check: func(t *testing.T, h http.Header) {
				if v := h.Get("Etag"); v != `"v1"` {
					t.Errorf("ETag = %q, want \"v1\"", v)
				}
			}},
		{desc: "error statuses are compressed too", h: write(json, http.StatusNotFound, big, 0), compress: true},
		{desc: "Accept-Ranges is dropped when compressing", h: write(with("Accept-Ranges", "bytes"), 0, big, 0), compress: true,
			check: func(t *testing.T, h http.Header) {
				if v := h.Get("Accept-Ranges"); v != "" {
					t.Errorf("Accept-Ranges = %q, want none", v)
				}
			}},
		{desc: "Accept-Ranges is kept when not compressing", h: write(with("Accept-Ranges", "bytes"), 0, small, 0),
			check: func(t *testing.T, h http.Header) {
				if v := h.Get("Accept-Ranges"); v != "bytes" {
					t.Errorf("Accept-Ranges = %q, want bytes", v)
				}
			}},
		{desc: "weak ETag stays as it is", h: write(with("ETag", `W/"v1"`), 0, big, 0), compress: true,
			check: func(t *testing.T, h http.Header) {
				if v := h.Get("ETag"); v != `W/"v1"` {
					t.Errorf("ETag = %q", v)
				}
			}},
		{desc: "strong ETag of an uncompressed response stays strong", h: write(with("ETag", `"v1"`), 0, small, 0),
			check: func(t *testing.T, h http.Header) {
				if v := h.Get("ETag"); v != `"v1"` {
					t.Errorf("ETag = %q", v)
				}
			}},
		{desc: "Vary * gets no Accept-Encoding", h: write(with("Vary", "*"), 0, big, 0), compress: true,
			check: func(t *testing.T, h http.Header) {
				if v := h.Values("Vary"); len(v) != 1 || v[0] != "*" {
					t.Errorf("Vary = %q, want just *", v)
				}
			}},
		{desc: "Vary replaced by the handler is merged again", h: write(with("Vary", "Origin"), 0, big, 0), compress: true,
			check: func(t *testing.T, h http.Header) {
				if varyHas(h, "Origin") != 1 || varyHas(h, "Accept-Encoding") != 1 {
					t.Errorf("Vary = %q, want Origin and Accept-Encoding once each", h.Values("Vary"))
				}
			}},
		{desc: "Vary already listing accept-encoding is not duplicated", h: write(with("Vary", "accept-encoding, Origin"), 0, big, 0), compress: true,
			check: func(t *testing.T, h http.Header) {
				if varyHas(h, "Accept-Encoding") != 1 {
					t.Errorf("Vary = %q", h.Values("Vary"))
				}
			}},
	}
	m := newMW(t, compress.Config{})
	for _, tc := range cases {
		t.Run(tc.desc, func(t *testing.T) {
			for _, enc := range []string{"gzip", "br", "zstd", "deflate"} {
				rec := do(t, m, tc.h, get(enc))
				got := rec.Header().Get("Content-Encoding")
				switch {
				case tc.compress && got != enc:
					t.Fatalf("%s: Content-Encoding = %q, want %q", enc, got, enc)
				case !tc.compress:
					plain := httptest.NewRecorder()
					tc.h(plain, get(enc))
					if !bytes.Equal(rec.Body.Bytes(), plain.Body.Bytes()) || got != plain.Header().Get("Content-Encoding") {
						t.Fatalf("%s: response changed (Content-Encoding %q), want it untouched", enc, got)
					}
				}
				if tc.compress {
					_ = decode(t, got, rec.Body.Bytes())
				}
				if h := rec.Header(); h.Get("Vary") != "*" && varyHas(h, "Accept-Encoding") != 1 {
					t.Fatalf("Vary = %q, want Accept-Encoding once", h.Values("Vary"))
				}
				if tc.check != nil {
					tc.check(t, rec.Header())
				}
			}
		})
	}
}

func TestRoundTripEachEncoding(t *testing.T) {
	m := newMW(t, compress.Config{})
	for _, size := range []int{1024, 16 << 10, 1 << 20} {
		body := jsonBody(size)
		for _, enc := range []string{"zstd", "br", "gzip", "deflate"} {
			for _, chunk := range []int{0, 1000, 4096 + 3} {
				t.Run(enc+"/"+strconv.Itoa(size)+"/"+strconv.Itoa(chunk), func(t *testing.T) {
					rec := do(t, m, write(map[string]string{"Content-Type": "application/json"}, 0, body, chunk), get(enc))
					if got := rec.Header().Get("Content-Encoding"); got != enc {
						t.Fatalf("Content-Encoding = %q, want %q", got, enc)
					}
					if rec.Body.Len() >= size {
						t.Errorf("compressed %d bytes into %d", size, rec.Body.Len())
					}
					if got := decode(t, enc, rec.Body.Bytes()); !bytes.Equal(got, body) {
						t.Fatalf("round trip differs: %d bytes, want %d", len(got), len(body))
					}
				})
			}
		}
	}
}

func TestReadFromGoesThroughTheEncoder(t *testing.T) {
	body := jsonBody(64 << 10)
	m := newMW(t, compress.Config{})
	rec := do(t, m, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.(io.ReaderFrom).ReadFrom(bytes.NewReader(body))
	}, get("gzip"))
	if rec.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding = %q, want gzip", rec.Header().Get("Content-Encoding"))
	}
	if got := decode(t, "gzip", rec.Body.Bytes()); !bytes.Equal(got, body) {
		t.Fatal("body differs")
	}
}

// TestHeadGetsTheSameHeadersAsGet: RFC 9110 §9.3.2 wants HEAD to carry the
// GET's fields; gzhttp never compresses HEAD (klauspost/compress#387), so its
// HEAD and GET disagree.
func TestHeadGetsTheSameHeadersAsGet(t *testing.T) {
	big := jsonBody(4096)
	handlers := []struct {
		desc string
		h    http.HandlerFunc
	}{
		{"writes a large body", write(map[string]string{"Content-Type": "application/json"}, 0, big, 0)},
		{"writes a small body", write(map[string]string{"Content-Type": "application/json"}, 0, big[:100], 0)},
		{"sets a large Content-Length", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", "4096")
			if r.Method != http.MethodHead {
				_, _ = w.Write(big)
			}
		}},
		{"sets a small Content-Length", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", "10")
			if r.Method != http.MethodHead {
				_, _ = w.Write(big[:10])
			}
		}},
		{"serves a file with http.ServeContent", func(w http.ResponseWriter, r *http.Request) {
			http.ServeContent(w, r, "x.json", testTime, bytes.NewReader(big))
		}},
		{"no content type, sniffed HTML", write(nil, 0, append([]byte("<html>"), big...), 0)},
	}
	m := newMW(t, compress.Config{})
	for _, tc := range handlers {
		t.Run(tc.desc, func(t *testing.T) {
			g := do(t, m, tc.h, get("gzip"))
			hreq := httptest.NewRequest(http.MethodHead, "/", nil)
			hreq.Header.Set("Accept-Encoding", "gzip")
			h := do(t, m, tc.h, hreq)
			for _, k := range []string{"Content-Encoding", "Vary", "Etag", "Accept-Ranges", "Content-Type"} {
				if gv, hv := g.Header().Values(k), h.Header().Values(k); !equal(gv, hv) {
					t.Errorf("%s: GET %q, HEAD %q", k, gv, hv)
				}
			}
			// net/http drops a HEAD body; what reaches it must be nothing
			// (the handler wrote none) or exactly the GET's bytes, so that an
			// outer layer hashing or measuring it agrees with the GET.
			if h.Body.Len() != 0 && !bytes.Equal(h.Body.Bytes(), g.Body.Bytes()) {
				t.Errorf("HEAD wrote %d body bytes unlike the GET's %d", h.Body.Len(), g.Body.Len())
			}
		})
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// codeRecorder records every WriteHeader call, including 1xx ones.
type codeRecorder struct {
	*httptest.ResponseRecorder
	codes []int
}

func (c *codeRecorder) WriteHeader(code int) {
	c.codes = append(c.codes, code)
	if code >= 200 {
		c.ResponseRecorder.WriteHeader(code)
	}
}

func TestInformationalResponsesPassThroughAndDoNotDecide(t *testing.T) {
	body := jsonBody(4096)
	m := newMW(t, compress.Config{})
	rec := &codeRecorder{ResponseRecorder: httptest.NewRecorder()}
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Link", "</app.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		// The content type is only known after the 103 (chi decided too early).
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write(body)
	})).ServeHTTP(rec, get("gzip"))
	if !equal(itoa(rec.codes), []string{"103", "201"}) {
		t.Fatalf("status codes sent = %v, want [103 201] (httpcompression loses the 201)", rec.codes)
	}
	if rec.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("final response not compressed after a 103")
	}
	if got := decode(t, "gzip", rec.Body.Bytes()); !bytes.Equal(got, body) {
		t.Fatal("body differs")
	}
}

func itoa(codes []int) []string {
	s := make([]string, len(codes))
	for i, c := range codes {
		s[i] = strconv.Itoa(c)
	}
	return s
}

func TestMinSizeAndContentTypesAreConfigurable(t *testing.T) {
	m := newMW(t, compress.Config{MinSize: 10, ContentTypes: []string{"application/*+xml", "image/*"}})
	cases := []struct {
		ct   string
		n    int
		want bool
	}{
		{"application/atom+xml", 20, true},
		{"image/png", 20, true},
		{"application/json", 4096, false},
		{"application/atom+xml", 9, false},
	}
	for _, tc := range cases {
		rec := do(t, m, write(map[string]string{"Content-Type": tc.ct}, 0, bytes.Repeat([]byte("a"), tc.n), 0), get("gzip"))
		if got := rec.Header().Get("Content-Encoding") == "gzip"; got != tc.want {
			t.Errorf("%s %d bytes: compressed = %v, want %v", tc.ct, tc.n, got, tc.want)
		}
	}
}

func TestWithoutAcceptEncodingTheHandlerGetsTheServerWriter(t *testing.T) {
	m := newMW(t, compress.Config{})
	rec := httptest.NewRecorder()
	var got http.ResponseWriter
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { got = w })).ServeHTTP(rec, get())
	if got != rec {
		t.Fatalf("handler got %T, want the server's writer (no wrapping cost)", got)
	}
	if varyHas(rec.Header(), "Accept-Encoding") != 1 {
		t.Fatalf("Vary = %q: an identity response also varies", rec.Header().Values("Vary"))
	}
}

func TestServeContentRangesAndFullBodies(t *testing.T) {
	body := jsonBody(8192)
	m := newMW(t, compress.Config{})
	h := func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "data.json", testTime, bytes.NewReader(body))
	}
	full := do(t, m, h, get("gzip"))
	if full.Header().Get("Content-Encoding") != "gzip" || full.Header().Get("Accept-Ranges") != "" {
		t.Fatalf("full body: Content-Encoding %q, Accept-Ranges %q", full.Header().Get("Content-Encoding"), full.Header().Get("Accept-Ranges"))
	}
	if got := decode(t, "gzip", full.Body.Bytes()); !bytes.Equal(got, body) {
		t.Fatal("full body differs")
	}
	req := get("gzip")
	req.Header.Set("Range", "bytes=0-99")
	part := do(t, m, h, req)
	if part.Code != http.StatusPartialContent || part.Header().Get("Content-Encoding") != "" || !bytes.Equal(part.Body.Bytes(), body[:100]) {
		t.Fatalf("range: status %d, Content-Encoding %q, %d bytes", part.Code, part.Header().Get("Content-Encoding"), part.Body.Len())
	}
}

// TestHeadMatchesGetStackedWithCache stacks compress and cache in both
// orders. HEAD must carry the GET's validator and length fields (RFC 9110
// §9.3.2) and revalidate with it. With cache outside, cache hashes what
// compress writes: compress used to drop a HEAD body it would encode, so HEAD
// got no ETag and If-None-Match with the GET's tag answered 200.
func TestHeadMatchesGetStackedWithCache(t *testing.T) {
	cm := newMW(t, compress.Config{})
	ca, err := cache.New(cache.Config{})
	if err != nil {
		t.Fatal(err)
	}
	h := write(map[string]string{"Content-Type": "application/json"}, 0, jsonBody(4096), 100)
	for name, hh := range map[string]http.Handler{
		"compress>cache": cm.Handler(ca.Handler(h)),
		"cache>compress": ca.Handler(cm.Handler(h)),
	} {
		for _, enc := range []string{"gzip", "zstd", "br", "deflate"} {
			req := func(method string, kv ...string) *httptest.ResponseRecorder {
				r := httptest.NewRequest(method, "/", nil)
				r.Header.Set("Accept-Encoding", enc)
				for i := 0; i < len(kv); i += 2 {
					r.Header.Set(kv[i], kv[i+1])
				}
				rec := httptest.NewRecorder()
				hh.ServeHTTP(rec, r)
				return rec
			}
			g, hd := req(http.MethodGet), req(http.MethodHead)
			if g.Header().Get("Etag") == "" || g.Header().Get("Content-Encoding") != enc {
				t.Fatalf("%s %s: GET fields %v", name, enc, g.Header())
			}
			for _, k := range []string{"Etag", "Content-Length", "Content-Encoding", "Content-Type", "Vary"} {
				if gv, hv := g.Header().Values(k), hd.Header().Values(k); !equal(gv, hv) {
					t.Errorf("%s %s: %s: GET %q, HEAD %q", name, enc, k, gv, hv)
				}
			}
			if rec := req(http.MethodHead, "If-None-Match", g.Header().Get("Etag")); rec.Code != http.StatusNotModified {
				t.Errorf("%s %s: HEAD revalidation with the GET's ETag: %d, want 304", name, enc, rec.Code)
			}
		}
	}
}

// A handler that writes into a header value in place changes its own
// response only: the Vary and Content-Encoding values compress sets are not
// shared between responses (the data race of rs/cors#198).
func TestHandlersCannotCorruptOtherResponsesHeaders(t *testing.T) {
	body := jsonBody(4096)
	h := compress.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("evil") != "" {
			// Vary: Accept-Encoding is merged at the commit: before it,
			// the handler sees no Vary of compress's.
			if v := w.Header()["Vary"]; len(v) > 0 {
				t.Errorf("the handler sees Vary %q before its commit", v)
			}
			_, _ = w.Write(body)
			// After the status the handler's map is detached (as with a
			// bare net/http writer): what it holds cannot reach anything.
			if v := w.Header()["Vary"]; len(v) > 0 {
				v[0] = "Cookie"
			}
			if ce := w.Header()["Content-Encoding"]; len(ce) > 0 {
				ce[0] = "evil"
			}
			return
		}
		_, _ = w.Write(body)
	}))
	for _, target := range []string{"/?evil=1", "/", "/?evil=1", "/"} {
		req := httptest.NewRequest(http.MethodGet, target, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if target == "/" && (rec.Header().Get("Vary") != "Accept-Encoding" || rec.Header().Get("Content-Encoding") != "gzip") {
			t.Fatalf("after a handler wrote in place: Vary %q, Content-Encoding %q", rec.Header().Get("Vary"), rec.Header().Get("Content-Encoding"))
		}
	}
}
