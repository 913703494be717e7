package cache_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jiec/httpmw/cache"
)

// The resource of the differential table: current tag E (or weak W), last
// modified at lm.
const (
	tagE = `"xyz"`
	tagW = `W/"xyz"`
	body = "hello, conditional world\n"
)

var (
	lm      = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	atLM    = lm.Format(http.TimeFormat)
	afterLM = lm.Add(time.Hour).Format(http.TimeFormat)
	beforeL = lm.Add(-time.Hour).Format(http.TimeFormat)
	rfc850  = lm.Format("Monday, 02-Jan-06 15:04:05 GMT")
	asctime = lm.Format(time.ANSIC)
)

type diffCase struct {
	desc    string
	method  string
	etag    string    // current entity tag; "" for none
	lastMod time.Time // current modification time; zero for none
	req     http.Header
	want    int // http.ServeContent's status
	// ours is our status where it deviates from ServeContent (0: same);
	// rfc names the section that requires the deviation.
	ours int
	rfc  string
}

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h[kv[i]] = append(h[kv[i]], kv[i+1])
	}
	return h
}

var diffCases = []diffCase{
	{desc: "no preconditions", method: "GET", etag: tagE, lastMod: lm, want: 200},
	{desc: "INM matches", method: "GET", etag: tagE, req: hdr("If-None-Match", tagE), want: 304},
	{desc: "INM weak tag matches strong current (weak comparison)", method: "GET", etag: tagE, req: hdr("If-None-Match", tagW), want: 304},
	{desc: "INM strong tag matches weak current", method: "GET", etag: tagW, req: hdr("If-None-Match", tagE), want: 304},
	{desc: "INM weak matches weak", method: "GET", etag: tagW, req: hdr("If-None-Match", tagW), want: 304},
	{desc: "INM other tag", method: "GET", etag: tagE, req: hdr("If-None-Match", `"abc"`), want: 200},
	{desc: "INM other weak tag", method: "GET", etag: tagE, req: hdr("If-None-Match", `W/"abc"`), want: 200},
	{desc: "INM list with match", method: "GET", etag: tagE, req: hdr("If-None-Match", `"a", W/"b", "xyz"`), want: 304},
	{desc: "INM list without match", method: "GET", etag: tagE, req: hdr("If-None-Match", `"a", "b"`), want: 200},
	{desc: "INM list with empty elements and OWS", method: "GET", etag: tagE, req: hdr("If-None-Match", ` , ,"a" ,	"xyz" , `), want: 304},
	{desc: "INM star", method: "GET", etag: tagE, req: hdr("If-None-Match", "*"), want: 304},
	{desc: "INM star without current tag", method: "GET", lastMod: lm, req: hdr("If-None-Match", "*"), want: 304},
	{desc: "INM empty value is ignored", method: "GET", etag: tagE, req: hdr("If-None-Match", ""), want: 200},
	{desc: "INM unquoted tag is malformed", method: "GET", etag: tagE, req: hdr("If-None-Match", "xyz"), want: 200},
	{desc: "INM tag with comma inside quotes", method: "GET", etag: `"a,b"`, req: hdr("If-None-Match", `"a,b"`), want: 304},
	{desc: "INM without current tag", method: "GET", lastMod: lm, req: hdr("If-None-Match", tagE), want: 200},
	{
		desc: "INM match on second field line", method: "GET", etag: tagE,
		req: hdr("If-None-Match", `"a"`, "If-None-Match", tagE), want: 200, ours: 304,
		rfc: "RFC 9110 §5.3: field lines combine into one list; ServeContent reads only the first line",
	},
	{
		desc: "INM malformed element before match", method: "GET", etag: tagE,
		req: hdr("If-None-Match", `xyz, "xyz"`), want: 200, ours: 304,
		rfc: "RFC 9110 §13.1.2: false if one of the listed tags matches; ServeContent stops at the first malformed element",
	},
	{desc: "IMS equal to LM", method: "GET", etag: tagE, lastMod: lm, req: hdr("If-Modified-Since", atLM), want: 304},
	{desc: "IMS after LM", method: "GET", etag: tagE, lastMod: lm, req: hdr("If-Modified-Since", afterLM), want: 304},
	{desc: "IMS before LM", method: "GET", etag: tagE, lastMod: lm, req: hdr("If-Modified-Since", beforeL), want: 200},
	{desc: "IMS rfc850 date", method: "GET", lastMod: lm, req: hdr("If-Modified-Since", rfc850), want: 304},
	{desc: "IMS asctime date", method: "GET", lastMod: lm, req: hdr("If-Modified-Since", asctime), want: 304},
	{desc: "IMS invalid date", method: "GET", lastMod: lm, req: hdr("If-Modified-Since", "yesterday"), want: 200},
	{desc: "IMS numeric date", method: "GET", lastMod: lm, req: hdr("If-Modified-Since", "1704164645"), want: 200},
	{desc: "IMS with sub-second LM", method: "GET", lastMod: lm.Add(500 * time.Millisecond), req: hdr("If-Modified-Since", atLM), want: 304},
	{desc: "IMS without LM", method: "GET", etag: tagE, req: hdr("If-Modified-Since", atLM), want: 200},
	{desc: "IMS ignored when INM present and not matching", method: "GET", etag: tagE, lastMod: lm, req: hdr("If-None-Match", `"a"`, "If-Modified-Since", afterLM), want: 200},
	{desc: "INM match wins over old IMS", method: "GET", etag: tagE, lastMod: lm, req: hdr("If-None-Match", tagE, "If-Modified-Since", beforeL), want: 304},
	{
		desc: "IMS on two field lines", method: "GET", lastMod: lm,
		req: hdr("If-Modified-Since", atLM, "If-Modified-Since", atLM), want: 304, ours: 200,
		rfc: "RFC 9110 §13.1.3: ignore If-Modified-Since whose value has more than one member",
	},
	{desc: "If-Match matches", method: "GET", etag: tagE, req: hdr("If-Match", tagE), want: 200},
	{desc: "If-Match other tag", method: "GET", etag: tagE, req: hdr("If-Match", `"abc"`), want: 412},
	{desc: "If-Match weak tag fails strong comparison", method: "GET", etag: tagE, req: hdr("If-Match", tagW), want: 412},
	{desc: "If-Match against weak current fails", method: "GET", etag: tagW, req: hdr("If-Match", tagW), want: 412},
	{desc: "If-Match star", method: "GET", etag: tagE, req: hdr("If-Match", "*"), want: 200},
	{desc: "If-Match star without current tag", method: "GET", lastMod: lm, req: hdr("If-Match", "*"), want: 200},
	{desc: "If-Match tag without current tag", method: "GET", lastMod: lm, req: hdr("If-Match", tagE), want: 412},
	{desc: "If-Match list with match", method: "GET", etag: tagE, req: hdr("If-Match", `"a", "xyz"`), want: 200},
	{desc: "If-Match malformed", method: "GET", etag: tagE, req: hdr("If-Match", "xyz"), want: 412},
	{desc: "If-Match empty value is ignored", method: "GET", etag: tagE, req: hdr("If-Match", ""), want: 200},
	{
		desc: "If-Match list of empty elements is ignored", method: "PUT", etag: tagE,
		req: hdr("If-Match", " , ,"), want: 412, ours: 200,
		rfc: "RFC 9110 §5.6.1.2: empty elements do not count, so the field is as empty as If-Match: (which ServeContent ignores)",
	},
	{
		desc: "If-Match match on second field line", method: "GET", etag: tagE,
		req: hdr("If-Match", `"a"`, "If-Match", tagE), want: 412, ours: 200,
		rfc: "RFC 9110 §5.3: field lines combine into one list; ServeContent reads only the first line",
	},
	{desc: "IUS before LM fails", method: "GET", lastMod: lm, req: hdr("If-Unmodified-Since", beforeL), want: 412},
	{desc: "IUS equal to LM", method: "GET", lastMod: lm, req: hdr("If-Unmodified-Since", atLM), want: 200},
	{desc: "IUS after LM", method: "GET", lastMod: lm, req: hdr("If-Unmodified-Since", afterLM), want: 200},
	{desc: "IUS rfc850 before LM", method: "GET", lastMod: lm, req: hdr("If-Unmodified-Since", lm.Add(-time.Hour).Format("Monday, 02-Jan-06 15:04:05 GMT")), want: 412},
	{desc: "IUS asctime equal", method: "GET", lastMod: lm, req: hdr("If-Unmodified-Since", asctime), want: 200},
	{desc: "IUS invalid date", method: "GET", lastMod: lm, req: hdr("If-Unmodified-Since", "not a date"), want: 200},
	{desc: "IUS without LM", method: "GET", etag: tagE, req: hdr("If-Unmodified-Since", beforeL), want: 200},
	{desc: "IUS ignored when If-Match present", method: "GET", etag: tagE, lastMod: lm, req: hdr("If-Match", tagE, "If-Unmodified-Since", beforeL), want: 200},
	{
		desc: "IUS on two field lines", method: "GET", lastMod: lm,
		req: hdr("If-Unmodified-Since", beforeL, "If-Unmodified-Since", beforeL), want: 412, ours: 200,
		rfc: "RFC 9110 §13.1.4: ignore If-Unmodified-Since whose value appears to be a list of dates",
	},
	{desc: "If-Match failure wins over INM", method: "GET", etag: tagE, req: hdr("If-Match", `"abc"`, "If-None-Match", tagE), want: 412},
	{desc: "IUS failure wins over INM", method: "GET", etag: tagE, lastMod: lm, req: hdr("If-Unmodified-Since", beforeL, "If-None-Match", tagE), want: 412},
	{desc: "If-Match then INM match", method: "GET", etag: tagE, req: hdr("If-Match", tagE, "If-None-Match", tagE), want: 304},
	{desc: "If-Match then IMS", method: "GET", etag: tagE, lastMod: lm, req: hdr("If-Match", tagE, "If-Modified-Since", atLM), want: 304},
	{desc: "IUS then IMS", method: "GET", lastMod: lm, req: hdr("If-Unmodified-Since", atLM, "If-Modified-Since", atLM), want: 304},
	{desc: "HEAD INM match", method: "HEAD", etag: tagE, req: hdr("If-None-Match", tagE), want: 304},
	{desc: "HEAD IMS", method: "HEAD", lastMod: lm, req: hdr("If-Modified-Since", atLM), want: 304},
	{desc: "HEAD If-Match fails", method: "HEAD", etag: tagE, req: hdr("If-Match", `"abc"`), want: 412},
	{desc: "HEAD no preconditions", method: "HEAD", etag: tagE, want: 200},
	{desc: "PUT If-Match matches", method: "PUT", etag: tagE, req: hdr("If-Match", tagE), want: 200},
	{desc: "PUT If-Match stale", method: "PUT", etag: tagE, req: hdr("If-Match", `"old"`), want: 412},
	{desc: "PUT If-Match weak", method: "PUT", etag: tagE, req: hdr("If-Match", tagW), want: 412},
	{desc: "PUT INM star on existing resource", method: "PUT", etag: tagE, req: hdr("If-None-Match", "*"), want: 412},
	{desc: "PUT INM match", method: "PUT", etag: tagE, req: hdr("If-None-Match", tagW), want: 412},
	{desc: "PUT INM other", method: "PUT", etag: tagE, req: hdr("If-None-Match", `"abc"`), want: 200},
	{desc: "PUT IMS is ignored", method: "PUT", lastMod: lm, req: hdr("If-Modified-Since", atLM), want: 200},
	{desc: "DELETE IUS before LM", method: "DELETE", lastMod: lm, req: hdr("If-Unmodified-Since", beforeL), want: 412},
	{desc: "DELETE IUS after LM", method: "DELETE", lastMod: lm, req: hdr("If-Unmodified-Since", afterLM), want: 200},
	{desc: "POST If-Match star", method: "POST", etag: tagE, req: hdr("If-Match", "*"), want: 200},
	{desc: "PATCH If-Match list", method: "PATCH", etag: tagE, req: hdr("If-Match", `"abc", "xyz"`), want: 200},
	{desc: "PATCH IUS equal and INM other", method: "PATCH", etag: tagE, lastMod: lm, req: hdr("If-Unmodified-Since", atLM, "If-None-Match", `"a"`), want: 200},
	{
		desc: "OPTIONS ignores INM", method: "OPTIONS", etag: tagE,
		req: hdr("If-None-Match", tagE), want: 412, ours: 200,
		rfc: "RFC 9110 §13.2.1: a server MUST ignore preconditions for CONNECT, OPTIONS and TRACE",
	},
	{
		desc: "OPTIONS ignores If-Match", method: "OPTIONS", etag: tagE,
		req: hdr("If-Match", `"abc"`), want: 412, ours: 200,
		rfc: "RFC 9110 §13.2.1",
	},
}

// serveContent is the reference: net/http's precondition logic.
func serveContent(c diffCase) int {
	rec := httptest.NewRecorder()
	if c.etag != "" {
		rec.Header().Set("Etag", c.etag)
	}
	http.ServeContent(rec, request(c.method, c.req), "", c.lastMod, strings.NewReader(body))
	return rec.Code
}

func request(method string, h http.Header) *http.Request {
	r := httptest.NewRequest(method, "/r", nil)
	for k, v := range h {
		r.Header[k] = append([]string(nil), v...)
	}
	return r
}

func okHandler(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	_, _ = io.WriteString(w, body)
}

func TestPreconditionsMatchServeContent(t *testing.T) {
	if n := len(diffCases); n < 50 {
		t.Fatalf("differential table has %d cases, want at least 50", n)
	}
	for _, c := range diffCases {
		t.Run(c.desc, func(t *testing.T) {
			ref := serveContent(c)
			if ref != c.want {
				t.Fatalf("ServeContent answered %d, table says %d", ref, c.want)
			}
			want := c.want
			if c.ours != 0 {
				want = c.ours
			}

			// 1. Config.Validator, evaluated before the handler.
			ran := false
			m, err := cache.New(cache.Config{Validator: func(*http.Request) (cache.Validators, bool) {
				return cache.Validators{ETag: c.etag, LastModified: c.lastMod}, true
			}})
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ran = true
				okHandler(w, r)
			})).ServeHTTP(rec, request(c.method, c.req))
			if rec.Code != want {
				t.Errorf("Validator: got %d, want %d (%s)", rec.Code, want, c.rfc)
			}
			if ran != (want == 200) {
				t.Errorf("Validator: handler ran = %v for status %d", ran, rec.Code)
			}

			if c.method != "GET" && c.method != "HEAD" {
				return
			}
			// 2. Validators set by the handler on its 200 response.
			rec = httptest.NewRecorder()
			cache.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if c.etag != "" {
					w.Header().Set("Etag", c.etag)
				}
				if !c.lastMod.IsZero() {
					w.Header().Set("Last-Modified", c.lastMod.UTC().Format(http.TimeFormat))
				}
				okHandler(w, r)
			})).ServeHTTP(rec, request(c.method, c.req))
			if rec.Code != want {
				t.Errorf("handler validators: got %d, want %d (%s)", rec.Code, want, c.rfc)
			}

			// 3. Generated ETag: the current tag is the hash of the body; the
			// request's "xyz" stands for it.
			if c.etag != tagE {
				return
			}
			gen := generatedTag(t)
			req := http.Header{}
			for k, v := range c.req {
				for _, s := range v {
					req[k] = append(req[k], strings.ReplaceAll(s, tagE, gen))
				}
			}
			rec = httptest.NewRecorder()
			cache.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !c.lastMod.IsZero() {
					w.Header().Set("Last-Modified", c.lastMod.UTC().Format(http.TimeFormat))
				}
				okHandler(w, r)
			})).ServeHTTP(rec, request(c.method, req))
			if rec.Code != want {
				t.Errorf("generated ETag: got %d, want %d (%s)", rec.Code, want, c.rfc)
			}
		})
	}
}

// generatedTag returns the ETag the middleware generates for body.
func generatedTag(t *testing.T) string {
	t.Helper()
	rec := httptest.NewRecorder()
	cache.Handler(http.HandlerFunc(okHandler)).ServeHTTP(rec, httptest.NewRequest("GET", "/r", nil))
	tag := rec.Header().Get("Etag")
	if tag == "" {
		t.Fatal("no generated ETag")
	}
	return tag
}
