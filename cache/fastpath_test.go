package cache_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jiec/httpmw/cache"
	"github.com/jiec/httpmw/internal/problem"
	"github.com/jiec/httpmw/internal/traceid"
)

type traceCarrier string

func (c traceCarrier) TraceID() string { return string(c) }

// The 412 documents are precomputed in New; they must be what problem.Write
// sends, and with a trace id in the context they must carry it (RFC 9457
// extension member trace_id).
func TestPreconditionFailedMatchesProblemWrite(t *testing.T) {
	m := validatorMW(t, cache.Config{}, cache.Validators{ETag: tagE, LastModified: lm})
	for _, c := range []struct {
		method, field, value, trace string
	}{
		{"PUT", "If-Match", `"stale"`, ""},
		{"DELETE", "If-Unmodified-Since", beforeL, ""},
		{"PUT", "If-None-Match", "*", ""},
		{"HEAD", "If-Match", `"stale"`, ""},
		{"PUT", "If-Match", `"stale"`, "abc123"},
		{"HEAD", "If-Match", `"stale"`, "abc123"},
	} {
		r := request(c.method, hdr(c.field, c.value))
		if c.trace != "" {
			r = r.WithContext(traceid.With(r.Context(), traceCarrier(c.trace)))
		}
		got := httptest.NewRecorder()
		// Fields an outer layer or a stale 200 may have left.
		got.Header().Set("Content-Encoding", "gzip")
		got.Header().Set("Etag", tagE)
		got.Header().Set("Last-Modified", atLM)
		got.Header().Set("X-Outer", "kept")
		m.Handler(mustNotRun(t)).ServeHTTP(got, r)

		want := httptest.NewRecorder()
		want.Header().Set("X-Outer", "kept")
		problem.Write(want, r, problem.Details{
			Status: http.StatusPreconditionFailed,
			Detail: c.field + " does not hold for the current state of the resource",
		})
		if got.Code != 412 || !equalHeader(got.Header(), want.Header()) || got.Body.String() != want.Body.String() {
			t.Errorf("%s %s: got %d %v %q\nwant %d %v %q", c.method, c.field,
				got.Code, got.Header(), got.Body, want.Code, want.Header(), want.Body)
		}
		if c.trace != "" && c.method != "HEAD" {
			var p map[string]any
			if err := json.Unmarshal(got.Body.Bytes(), &p); err != nil || p["trace_id"] != c.trace {
				t.Errorf("%s with trace id: %v %v", c.field, p, err)
			}
		}
	}
}

// The Validator's last ETag and Last-Modified are kept parsed and formatted;
// a resource whose validators change, or requests for different resources
// interleaved (concurrently, under -race), must each get their own.
func TestValidatorsOfDifferentResourcesDoNotMix(t *testing.T) {
	m, err := cache.New(cache.Config{
		Validator: func(r *http.Request) (cache.Validators, bool) {
			n, _ := strconv.Atoi(r.URL.Query().Get("n"))
			v := cache.Validators{LastModified: lm.Add(time.Duration(n) * time.Hour)}
			if n%3 != 0 {
				v.ETag = `"v` + strconv.Itoa(n) + `"`
			}
			if n%3 == 2 {
				v.ETag = "W/" + v.ETag
			}
			return v, true
		},
		CacheControl: cache.CacheControl{}.NoCache(),
		Vary:         []string{"Accept"},
	})
	if err != nil {
		t.Fatal(err)
	}
	h := m.Handler(writeBody(body))
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 60 {
				n := (i + g) % 6
				tag := `"v` + strconv.Itoa(n) + `"`
				if n%3 == 2 {
					tag = "W/" + tag
				}
				date := lm.Add(time.Duration(n) * time.Hour).Format(http.TimeFormat)
				r := httptest.NewRequest("GET", "/r?n="+strconv.Itoa(n), nil)
				want := http.Header{"Cache-Control": {"no-cache"}, "Vary": {"Accept"}}
				switch {
				case i%3 == 0: // 200
					want["Last-Modified"] = []string{date}
					want["Etag"] = []string{tag}
					if n%3 == 0 {
						want["Etag"] = []string{sha(body)} // generated
					}
				case n%3 == 0: // 304 by date: Last-Modified, no ETag
					r.Header.Set("If-Modified-Since", date)
					want["Last-Modified"] = []string{date}
				default: // 304 by tag: ETag, no Last-Modified
					r.Header.Set("If-None-Match", tag)
					want["Etag"] = []string{tag}
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, r)
				if i%3 != 0 && rec.Code != 304 || i%3 == 0 && rec.Code != 200 {
					t.Errorf("n=%d i=%d: status %d", n, i, rec.Code)
				}
				got := rec.Header().Clone()
				if rec.Code == 200 {
					delete(got, "Content-Length")
					delete(got, "Content-Type")
				}
				if !equalHeader(got, want) {
					t.Errorf("n=%d i=%d: got %v, want %v", n, i, got, want)
				}
			}
		})
	}
	wg.Wait()
}

// A handler may write to the field values the middleware set before it ran
// (in place, not only by append): that must not change later responses.
func TestHandlerWritingFieldsInPlaceDoesNotLeak(t *testing.T) {
	m := validatorMW(t, cache.Config{CacheControl: cache.CacheControl{}.NoCache()},
		cache.Validators{ETag: tagE, LastModified: lm})
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, k := range []string{"Cache-Control", "Etag", "Last-Modified"} {
			w.Header()[k][0] = "mutated"
		}
	}))
	for range 2 {
		serve(h, "GET")
		rec := serve(h, "GET", "If-None-Match", tagE)
		want := http.Header{"Cache-Control": {"no-cache"}, "Etag": {tagE}}
		if rec.Code != 304 || !equalHeader(rec.Header(), want) {
			t.Errorf("304 after a mutating 200: got %d %v", rec.Code, rec.Header())
		}
	}
	rec := serve(m.Handler(writeBody(body)), "GET")
	if rec.Header().Get("Cache-Control") != "no-cache" || rec.Header().Get("Etag") != tagE || rec.Header().Get("Last-Modified") != atLM {
		t.Errorf("200 after mutating 200s: got %v", rec.Header())
	}
}

// A 304 answered from the Validator drops the representation fields outer
// layers set, whatever the size of the header map.
func TestValidatorNotModifiedDropsRepresentationFieldsOfAnyHeaderSize(t *testing.T) {
	m := validatorMW(t, cache.Config{}, cache.Validators{ETag: tagE, LastModified: lm})
	for extra := range 12 {
		rec := httptest.NewRecorder()
		want := http.Header{"Etag": {tagE}}
		for i := range extra {
			k := "X-Outer-" + strconv.Itoa(i)
			rec.Header().Set(k, "v")
			want.Set(k, "v")
		}
		rec.Header().Set("Content-Type", "text/plain")
		rec.Header().Set("Content-Length", "12")
		rec.Header().Set("Last-Modified", atLM)
		m.Handler(mustNotRun(t)).ServeHTTP(rec, request("GET", hdr("If-None-Match", tagE)))
		if rec.Code != 304 || !equalHeader(rec.Header(), want) {
			t.Errorf("%d outer fields: got %d %v, want %v", extra, rec.Code, rec.Header(), want)
		}
	}
}

// The generated ETag and Content-Length are values of the response's own:
// an outer layer that writes to them in place or appends to one changes
// neither the other field nor a later response.
func TestGeneratedFieldsAreTheResponsesOwn(t *testing.T) {
	h := cache.Handler(writeBody(body))
	tag, length := cache.GeneratedETag(body), strconv.Itoa(len(body))
	for range 3 {
		rec := serve(h, "GET")
		got := rec.Header()
		if !slices.Equal(got["Etag"], []string{tag}) || !slices.Equal(got["Content-Length"], []string{length}) {
			t.Fatalf("got %v, want ETag %s and Content-Length %s", got, tag, length)
		}
		got["Etag"] = append(got["Etag"], "appended")
		if !slices.Equal(got["Content-Length"], []string{length}) {
			t.Fatalf("an append to the ETag reached Content-Length: %v", got)
		}
		got["Etag"][0], got["Content-Length"][0] = "mutated", "mutated"
	}
}
