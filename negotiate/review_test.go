package negotiate_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/jiec/httpmw/negotiate"
)

// Found in review: Vary was merged only before the handler ran, so a
// handler that set its own Vary dropped the negotiated fields (CONVENTIONS:
// a layer's Vary dimensions are there, once, when the status is committed).
func TestVarySurvivesAHandlerThatReplacesIt(t *testing.T) {
	m := mustNew(t, negotiate.Config{Types: []string{"application/json", "text/html"}, Languages: []string{"en"}})
	for _, tt := range []struct {
		name    string
		handler func(w http.ResponseWriter)
		want    []string
	}{
		{"Set then WriteHeader", func(w http.ResponseWriter) {
			w.Header().Set("Vary", "Origin")
			w.WriteHeader(201)
		}, []string{"Origin", "Accept", "Accept-Language"}},
		{"Set then Write", func(w http.ResponseWriter) {
			w.Header().Set("Vary", "Origin")
			io.WriteString(w, "x")
		}, []string{"Origin", "Accept", "Accept-Language"}},
		{"Set then Flush", func(w http.ResponseWriter) {
			w.Header().Set("Vary", "Origin")
			http.NewResponseController(w).Flush()
		}, []string{"Origin", "Accept", "Accept-Language"}},
		{"Del, writes nothing", func(w http.ResponseWriter) {
			w.Header().Del("Vary")
		}, []string{"Accept", "Accept-Language"}},
		{"Set with a duplicate, case-insensitively", func(w http.ResponseWriter) {
			w.Header().Set("Vary", "accept")
			w.WriteHeader(200)
		}, []string{"accept", "Accept-Language"}},
		{"Set *", func(w http.ResponseWriter) {
			w.Header().Set("Vary", "*")
			w.WriteHeader(200)
		}, []string{"*"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec, _, _ := serve(m, get(map[string]string{"Accept": "text/html"}), nil, tt.handler)
			var got []string
			for _, line := range rec.Header().Values("Vary") {
				for _, e := range strings.Split(line, ",") {
					got = append(got, strings.TrimSpace(e))
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Vary = %q, want %q", got, tt.want)
			}
		})
	}
}

// The wrapped writer keeps what handlers rely on: Flush, ReadFrom, 1xx,
// Hijack through http.ResponseController.
func TestHandlerKeepsTheWriterFeatures(t *testing.T) {
	m := mustNew(t, negotiate.Config{Types: []string{"text/plain"}})
	srv := httptest.NewServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hijack" {
			c, rw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			rw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhj")
			rw.Flush()
			c.Close()
			return
		}
		w.Header().Set("Link", "</a>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		if _, ok := w.(io.ReaderFrom); !ok {
			t.Error("no io.ReaderFrom")
		}
		io.Copy(w, strings.NewReader("body"))
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Error(err)
		}
	})))
	defer srv.Close()
	for path, want := range map[string]string{"/": "body", "/hijack": "hj"} {
		resp, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != want {
			t.Errorf("%s: %q", path, b)
		}
		if path == "/" && resp.Header.Get("Vary") != "Accept" {
			t.Errorf("Vary %q", resp.Header.Values("Vary"))
		}
	}
}

// Found in review: a nil or zero Middleware panicked; like cors and
// security, it passes requests through.
func TestNilAndZeroMiddlewarePassThrough(t *testing.T) {
	var nilMW *negotiate.Middleware
	for name, m := range map[string]*negotiate.Middleware{"nil": nilMW, "zero": {}} {
		ran := false
		h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ran = true
			if c := negotiate.Result(r.Context()); c != (negotiate.Choice{}) {
				t.Errorf("%s: Result %+v", name, c)
			}
		}))
		rec := httptest.NewRecorder()
		func() {
			defer func() {
				if v := recover(); v != nil {
					t.Errorf("%s: panic %v", name, v)
				}
			}()
			h.ServeHTTP(rec, get(map[string]string{"Accept": "image/png"}))
		}()
		if !ran || rec.Header().Get("Vary") != "" {
			t.Errorf("%s: ran %v, Vary %q", name, ran, rec.Header().Get("Vary"))
		}
	}
}

// Found in review: with two negotiating middlewares (media types for the
// whole mux, languages on one route), the inner one's Result hid the outer
// one's choice.
func TestNestedMiddlewaresMergeTheirResults(t *testing.T) {
	types := mustNew(t, negotiate.Config{Types: []string{"application/json", "text/html"}})
	langs := mustNew(t, negotiate.Config{Languages: []string{"en", "fr"}, Fallback: true})
	var got negotiate.Choice
	h := types.Handler(langs.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = negotiate.Result(r.Context())
	})))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, get(map[string]string{"Accept": "text/html", "Accept-Language": "de"}))
	if want := (negotiate.Choice{MediaType: "text/html", Language: "en", Fallback: true}); got != want {
		t.Errorf("Result = %+v, want %+v", got, want)
	}
	if v := rec.Header().Values("Vary"); !slices.Equal(v, []string{"Accept, Accept-Language"}) {
		t.Errorf("Vary = %q", v)
	}
}
