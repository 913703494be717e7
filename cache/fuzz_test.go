package cache_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jiec/httpmw/cache"
	"github.com/jiec/httpmw/internal/header"
)

var fuzzMethods = [...]string{"GET", "HEAD", "PUT", "POST", "DELETE", "PATCH"}

// ours runs one request through the Validator path and, for GET and HEAD,
// through the response-validator path, and fails if they disagree.
func ours(t *testing.T, method, etag string, lastMod time.Time, req http.Header) int {
	t.Helper()
	m, err := cache.New(cache.Config{MaxBodySize: -1, Validator: func(*http.Request) (cache.Validators, bool) {
		return cache.Validators{ETag: etag, LastModified: lastMod}, true
	}})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(okHandler)).ServeHTTP(rec, request(method, req))
	// The response path compares without coding suffixes, as behind
	// compress.
	req = unsuffixed(etag, req)
	if _, valid := header.ParseETag(etag); method != "GET" && method != "HEAD" || etag != "" && !valid {
		// Validators.ETag quotes a bare tag; a handler's invalid ETag field
		// is taken as it is, so the two paths differ by design.
		return rec.Code
	}
	rec2 := httptest.NewRecorder()
	cache.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if etag != "" {
			w.Header().Set("Etag", etag)
		}
		if !lastMod.IsZero() {
			w.Header().Set("Last-Modified", lastMod.UTC().Format(http.TimeFormat))
		}
		okHandler(w, r)
	})).ServeHTTP(rec2, request(method, req))
	if rec.Code != rec2.Code {
		t.Fatalf("Validator path %d, response path %d", rec.Code, rec2.Code)
	}
	if rec.Code == 304 && (rec.Body.Len() != 0 || rec.Header().Get("Content-Type") != "") {
		t.Fatalf("304 with body %q or Content-Type %q", rec.Body.String(), rec.Header().Get("Content-Type"))
	}
	return rec.Code
}

// unsuffixed returns req, or a copy whose If-Match and If-None-Match name
// etag where req named etag with a coding suffix ("a-gzip" for "a"; W/"a"
// for W/"a-gzip"), which the Validator path matches like etag: what compress outside
// cache would pass on. Lines are rejoined with ", " when rewritten.
func unsuffixed(etag string, req http.Header) http.Header {
	cur, ok := header.ParseETag(etag)
	if !ok || cur.Weak {
		return req
	}
	var out http.Header
	for _, k := range []string{"If-Match", "If-None-Match"} {
		if header.TotalLen(req[k]) > header.MaxLen {
			continue
		}
		var elems []string
		found := false
		for e := range header.ETags(req[k]) {
			if t, ok := header.ParseETag(e); ok {
				if base, n := header.CutCodingSuffix(t.Opaque[1 : len(t.Opaque)-1]); n != "" && `"`+base+`"` == cur.Opaque {
					e, found = cur.Opaque, true
					if t.Weak {
						e = "W/" + e // compress strips the suffix of weak tags too
					}
				}
			}
			elems = append(elems, e)
		}
		if !found {
			continue
		}
		if out == nil {
			out = req.Clone()
		}
		out[k] = []string{strings.Join(elems, ", ")}
	}
	if out == nil {
		return req
	}
	return out
}

// wellFormed reports whether every element of an entity-tag list is "*" or
// an entity tag, the lists on which ServeContent and RFC 9110 agree:
// ServeContent stops at the first malformed element and treats a list of
// only empty elements (",") as a present field that matches nothing, where
// RFC 9110 §5.6.1.2 says empty elements do not count (the table has both).
func wellFormed(v string) bool {
	if len(v) > header.MaxLen {
		return false
	}
	n := 0
	for e := range header.ETags([]string{v}) {
		if _, ok := header.ParseETag(e); !ok && e != "*" {
			return false
		}
		n++
	}
	return n > 0 || v == ""
}

func FuzzEntityTagLists(f *testing.F) {
	for _, c := range diffCases {
		f.Add(uint8(0), c.etag, c.req.Get("If-Match"), c.req.Get("If-None-Match"))
	}
	f.Add(uint8(2), `W/"a"`, `"a", *`, `W/"a",,`)
	f.Add(uint8(1), `"é"`, `"\x80"`, `"a,b", "é"`)
	f.Add(uint8(0), `"a"`, `"a-gzip"`, `"b", "a-br"`)
	f.Add(uint8(2), `"a"`, `W/"a-gzip"`, `"a-zstd",`)
	f.Fuzz(func(t *testing.T, mi uint8, etag, im, inm string) {
		method := fuzzMethods[int(mi)%len(fuzzMethods)]
		// net/http's reader trims OWS around field values.
		im, inm = header.TrimOWS(im), header.TrimOWS(inm)
		req := http.Header{}
		if im != "" {
			req["If-Match"] = []string{im}
		}
		if inm != "" {
			req["If-None-Match"] = []string{inm}
		}
		got := ours(t, method, etag, time.Time{}, req)
		if got != 200 && got != 304 && got != 412 {
			t.Fatalf("status %d", got)
		}
		if got == 304 && method != "GET" && method != "HEAD" {
			t.Fatalf("304 for %s", method)
		}
		_, validTag := header.ParseETag(etag)
		if !validTag || !wellFormed(im) || !wellFormed(inm) || strings.ContainsAny(im+inm+etag, "\r\n") {
			return
		}
		if want := serveContent(diffCase{method: method, etag: etag, req: unsuffixed(etag, req)}); got != want {
			t.Fatalf("%s etag %q If-Match %q If-None-Match %q: got %d, ServeContent %d", method, etag, im, inm, got, want)
		}
	})
}

func FuzzDates(f *testing.F) {
	for _, c := range diffCases {
		f.Add(uint8(0), c.lastMod.Unix(), c.req.Get("If-Modified-Since"), c.req.Get("If-Unmodified-Since"))
	}
	f.Add(uint8(1), int64(1), "Thu, 01 Jan 1970 00:00:01 GMT", "Thursday, 01-Jan-70 00:00:01 GMT")
	f.Add(uint8(0), int64(784111777), "Sun Nov  6 08:49:37 1994", "Sun, 06 Nov 1994 08:49:37 GMT")
	f.Fuzz(func(t *testing.T, mi uint8, lmSec int64, ims, ius string) {
		method := fuzzMethods[int(mi)%len(fuzzMethods)]
		ims, ius = header.TrimOWS(ims), header.TrimOWS(ius) // as net/http's reader does
		var lastMod time.Time
		if lmSec > 0 {
			lastMod = time.Unix(lmSec%(1<<35), 0) // up to year ~3000
		}
		req := http.Header{}
		if ims != "" {
			req["If-Modified-Since"] = []string{ims}
		}
		if ius != "" {
			req["If-Unmodified-Since"] = []string{ius}
		}
		got := ours(t, method, "", lastMod, req)
		// Both use http.ParseTime on the single field line, so they agree.
		if want := serveContent(diffCase{method: method, lastMod: lastMod, req: req}); got != want {
			t.Fatalf("%s LM %v IMS %q IUS %q: got %d, ServeContent %d", method, lastMod, ims, ius, got, want)
		}
	})
}
