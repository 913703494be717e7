package negotiate_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/jiec/httpmw/negotiate"
)

func mustNew(t *testing.T, cfg negotiate.Config) *negotiate.Middleware {
	t.Helper()
	m, err := negotiate.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// serve runs r through m and returns the recorder and the Choice the
// handler saw (zero if it did not run).
func serve(m *negotiate.Middleware, r *http.Request, pre func(http.ResponseWriter), handler func(http.ResponseWriter)) (*httptest.ResponseRecorder, negotiate.Choice, bool) {
	var c negotiate.Choice
	ran := false
	rec := httptest.NewRecorder()
	if pre != nil {
		pre(rec)
	}
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ran = true
		c = negotiate.Result(r.Context())
		if handler != nil {
			handler(w)
		}
	})).ServeHTTP(rec, r)
	return rec, c, ran
}

var fullConfig = negotiate.Config{
	Types:     []string{"application/json", "text/html", "text/csv;header=present"},
	Languages: []string{"en-GB", "fr"},
	Charsets:  []string{"utf-8", "iso-8859-1"},
}

func TestMiddlewareResultHoldsEveryDimension(t *testing.T) {
	m := mustNew(t, fullConfig)
	rec, c, _ := serve(m, get(map[string]string{
		"Accept":          "text/csv, */*;q=0.1",
		"Accept-Language": "fr-CH, fr;q=0.9, en;q=0.8",
		"Accept-Charset":  "iso-8859-1",
	}), nil, nil)
	want := negotiate.Choice{MediaType: "text/csv;header=present", Language: "fr", Charset: "iso-8859-1"}
	if c != want {
		t.Errorf("Result = %+v, want %+v", c, want)
	}
	if got := rec.Header().Values("Vary"); !slices.Equal(got, []string{"Accept, Accept-Language, Accept-Charset"}) {
		t.Errorf("Vary = %q", got)
	}
	if got := rec.Header().Get("Content-Language"); got != "fr" {
		t.Errorf("Content-Language = %q, want fr", got)
	}
}

func TestMiddlewareWithoutFieldsChoosesFirstOffers(t *testing.T) {
	_, c, _ := serve(mustNew(t, fullConfig), get(nil), nil, nil)
	if want := (negotiate.Choice{MediaType: "application/json", Language: "en-GB", Charset: "utf-8"}); c != want {
		t.Errorf("Result = %+v, want %+v", c, want)
	}
}

func TestMiddlewareVaryListsOnlyNegotiatedFieldsMerged(t *testing.T) {
	m := mustNew(t, negotiate.Config{Types: []string{"application/json"}})
	rec, _, _ := serve(m, get(nil), func(w http.ResponseWriter) {
		w.Header().Add("Vary", "Origin, accept")
		w.Header().Add("Vary", "Accept-Encoding")
	}, nil)
	if got := rec.Header().Values("Vary"); !slices.Equal(got, []string{"Origin, accept, Accept-Encoding"}) {
		t.Errorf("Vary = %q, want the existing lines as one, Accept not added again", got)
	}
	rec, _, _ = serve(m, get(nil), func(w http.ResponseWriter) { w.Header().Set("Vary", "Cookie") }, nil)
	if got := rec.Header().Values("Vary"); !slices.Equal(got, []string{"Cookie, Accept"}) {
		t.Errorf("Vary = %q, want the handler's line joined with Accept", got)
	}
	rec, _, _ = serve(m, get(nil), func(w http.ResponseWriter) { w.Header().Set("Vary", "*") }, nil)
	if got := rec.Header().Values("Vary"); !slices.Equal(got, []string{"*"}) {
		t.Errorf("Vary = %q, want * alone", got)
	}
	rec, _, _ = serve(m, get(nil), nil, nil)
	if got := rec.Header().Values("Vary"); !slices.Equal(got, []string{"Accept"}) {
		t.Errorf("Vary = %q, want Accept", got)
	}
	if _, ok := rec.Header()["Content-Language"]; ok {
		t.Error("Content-Language set without Languages configured")
	}
}

func TestMiddlewareContentLanguageYieldsToExistingAndHandler(t *testing.T) {
	m := mustNew(t, negotiate.Config{Languages: []string{"en", "de"}})
	rec, _, _ := serve(m, get(map[string]string{"Accept-Language": "de"}), func(w http.ResponseWriter) {
		w.Header().Set("Content-Language", "de-AT")
	}, nil)
	if got := rec.Header().Values("Content-Language"); !slices.Equal(got, []string{"de-AT"}) {
		t.Errorf("Content-Language = %q, want the existing value", got)
	}
	rec, _, _ = serve(m, get(map[string]string{"Accept-Language": "de"}), nil, func(w http.ResponseWriter) {
		w.Header().Set("Content-Language", "mul")
		w.Header()["Content-Language"][0] = "mul" // in place: must not leak into other responses
	})
	if got := rec.Header().Get("Content-Language"); got != "mul" {
		t.Errorf("Content-Language = %q, want the handler's", got)
	}
	rec, _, _ = serve(m, get(map[string]string{"Accept-Language": "de"}), nil, nil)
	if got := rec.Header().Get("Content-Language"); got != "de" {
		t.Errorf("Content-Language = %q, want de", got)
	}
}

func TestMiddlewareAnswers406WithProblemListingOffers(t *testing.T) {
	m := mustNew(t, fullConfig)
	for _, tt := range []struct {
		name string
		h    map[string]string
	}{
		{"Accept", map[string]string{"Accept": "image/*"}},
		{"AcceptLanguage", map[string]string{"Accept-Language": "de, *;q=0"}},
		{"AcceptCharset", map[string]string{"Accept-Charset": "utf-16"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec, _, ran := serve(m, get(tt.h), nil, nil)
			if ran || rec.Code != http.StatusNotAcceptable {
				t.Fatalf("status %d, handler ran %v; want 406 without the handler", rec.Code, ran)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type = %q", ct)
			}
			if got := rec.Header().Get("Vary"); got != "Accept, Accept-Language, Accept-Charset" {
				t.Errorf("Vary = %q", got)
			}
			if _, ok := rec.Header()["Content-Language"]; ok {
				t.Error("406 carries Content-Language")
			}
			var doc struct {
				Status    int                 `json:"status"`
				Available map[string][]string `json:"available"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			if doc.Status != 406 || !slices.Equal(doc.Available["types"], fullConfig.Types) ||
				!slices.Equal(doc.Available["languages"], fullConfig.Languages) || !slices.Equal(doc.Available["charsets"], fullConfig.Charsets) {
				t.Errorf("problem document %s", rec.Body)
			}
		})
	}
}

func TestMiddleware406ForHEADHasNoBody(t *testing.T) {
	r := get(map[string]string{"Accept": "image/png"})
	r.Method = http.MethodHead
	rec, _, _ := serve(mustNew(t, fullConfig), r, nil, nil)
	if rec.Code != http.StatusNotAcceptable || rec.Body.Len() != 0 {
		t.Errorf("HEAD: status %d, %d body bytes", rec.Code, rec.Body.Len())
	}
}

func TestMiddlewareFallbackUsesFirstOffer(t *testing.T) {
	cfg := fullConfig
	cfg.Fallback = true
	m := mustNew(t, cfg)
	rec, c, ran := serve(m, get(map[string]string{"Accept": "image/png", "Accept-Charset": "iso-8859-1"}), nil, nil)
	want := negotiate.Choice{MediaType: "application/json", Language: "en-GB", Charset: "iso-8859-1", Fallback: true}
	if !ran || c != want || rec.Code != 200 {
		t.Errorf("ran %v, status %d, Result %+v; want %+v", ran, rec.Code, c, want)
	}
	_, c, _ = serve(m, get(map[string]string{"Accept": "text/html"}), nil, nil)
	if c.Fallback {
		t.Error("Fallback reported for an acceptable request")
	}
}

func TestMiddlewareErrorHandlerGetsNotAcceptableError(t *testing.T) {
	cfg := fullConfig
	var got error
	cfg.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		got = err
		w.WriteHeader(http.StatusTeapot)
	}
	rec, _, _ := serve(mustNew(t, cfg), get(map[string]string{"Accept-Language": "ja"}), nil, nil)
	var nae *negotiate.NotAcceptableError
	if rec.Code != http.StatusTeapot || !errors.Is(got, negotiate.ErrNotAcceptable) || !errors.As(got, &nae) || nae.Field != "Accept-Language" {
		t.Errorf("status %d, err %v", rec.Code, got)
	}
	if rec.Header().Get("Vary") == "" {
		t.Error("no Vary before the ErrorHandler")
	}
}

func TestResultWithoutMiddlewareIsZero(t *testing.T) {
	if c := negotiate.Result(get(nil).Context()); c != (negotiate.Choice{}) {
		t.Errorf("Result = %+v", c)
	}
}

func TestResultContextKeepsParentValues(t *testing.T) {
	type key struct{}
	r := get(nil)
	r = r.WithContext(contextWith(r, key{}, "v"))
	m := mustNew(t, negotiate.Config{Charsets: []string{"utf-8"}})
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Context().Value(key{}) != "v" {
			t.Error("parent context value lost")
		}
		if s, ok := r.Context().(interface{ String() string }); !ok || !strings.Contains(s.String(), "negotiate") {
			t.Error("context String does not name negotiate")
		}
	})).ServeHTTP(httptest.NewRecorder(), r)
}

func TestNewRejectsBadConfigNamingFieldAndValue(t *testing.T) {
	_, err := negotiate.New(negotiate.Config{
		Types:     []string{"text/*", "application/json", "APPLICATION/JSON", "text/html;q=0.5", "nonsense"},
		Languages: []string{"en_GB", "*", "fr"},
		Charsets:  []string{"*", "utf 8"},
	})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{`Types: not a media type`, `"text/*"`, `listed twice (value "APPLICATION/JSON")`, `"text/html;q=0.5"`, `"nonsense"`,
		`Languages: not a language tag`, `"en_GB"`, `value "*"`, `Charsets: not a charset name`, `"utf 8"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if _, err := negotiate.New(negotiate.Config{}); err == nil || !strings.Contains(err.Error(), "at least one offer") {
		t.Errorf("empty Config: %v", err)
	}
}

func TestNewCopiesConfig(t *testing.T) {
	cfg := negotiate.Config{Types: []string{"application/json", "text/html"}}
	m := mustNew(t, cfg)
	cfg.Types[0] = "text/csv"
	_, c, _ := serve(m, get(nil), nil, nil)
	if c.MediaType != "application/json" {
		t.Errorf("Result.MediaType = %q after the caller changed its Config", c.MediaType)
	}
}

func TestMiddlewareAllocatesOncePerRequest(t *testing.T) {
	m := mustNew(t, fullConfig)
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sinkString = negotiate.Result(r.Context()).MediaType
	}))
	r := get(map[string]string{"Accept": chromeAccept, "Accept-Language": "en-US,en;q=0.9", "Accept-Charset": "utf-8"})
	w := &nopWriter{h: http.Header{}}
	if n := testing.AllocsPerRun(100, func() { clear(w.h); h.ServeHTTP(w, r) }); n != 1 {
		t.Errorf("%v allocations per request, want 1", n)
	}
}

// The per-request value (the request for next, the context, the choice and
// the header value arrays) is one allocation of the 384-byte size class:
// 304 bytes of http.Request and 80 of our own.
func TestValueFitsThe384ByteSizeClass(t *testing.T) {
	if negotiate.ValueSize > 384 {
		t.Fatalf("value is %d bytes", negotiate.ValueSize)
	}
}

// Accept: */* (the fast path) chooses what the general scorer chooses for
// it, the first offer, as for */* spelled otherwise.
func TestAcceptAnyChoosesTheFirstOfferLikeTheScorer(t *testing.T) {
	for _, types := range [][]string{
		{"application/json", "text/html"},
		{"text/csv;header=present", "application/json"},
		{"image/png"},
	} {
		m := mustNew(t, negotiate.Config{Types: types})
		for _, accept := range []string{"*/*", "*/* ", "*/*;q=1", "*/*;q=0.5"} {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header["Accept"] = []string{accept}
			rec, c, ran := serve(m, r, nil, nil)
			if !ran || c.MediaType != types[0] || rec.Header().Get("Vary") != "Accept" {
				t.Errorf("%v, Accept %q: ran %v, %q, Vary %q; want %q", types, accept, ran, c.MediaType, rec.Header().Get("Vary"), types[0])
			}
			if q, ok := negotiate.MediaQuality(accept, types[0]); !ok || q == 0 {
				t.Errorf("%q scores %v %d for %q", accept, ok, q, types[0])
			}
		}
	}
}
