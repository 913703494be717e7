package cors_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jiec/httpmw/cors"
	"github.com/jiec/httpmw/internal/writer"
)

func varyTokens(h http.Header) []string {
	var out []string
	for _, line := range h.Values("Vary") {
		for e := range strings.SplitSeq(line, ",") {
			if e = strings.ToLower(strings.TrimSpace(e)); e != "" {
				out = append(out, e)
			}
		}
	}
	slices.Sort(out)
	return out
}

// "Vary: Origin" stays on every response whose ACAO depends on the Origin,
// whatever the handler does to Vary (a shared cache must not hand one
// origin's answer to another), alone or under another httpmw Writer, over
// HTTP/1.1 and HTTP/2; "*" stands alone.
func TestVaryOriginSurvivesTheHandler(t *testing.T) {
	const origin = "https://app.example.com"
	m, err := cors.New(cors.Config{Origins: []string{origin}})
	if err != nil {
		t.Fatal(err)
	}
	outer := func(next http.Handler) http.Handler { // another httpmw layer's Writer
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ww := writer.New(w, nil)
			next.ServeHTTP(ww, r)
			ww.Done()
		})
	}
	edits := []struct {
		desc string
		edit func(w http.ResponseWriter)
		want []string
	}{
		{"Set", func(w http.ResponseWriter) { w.Header().Set("Vary", "Accept") }, []string{"accept", "origin"}},
		{"Add repeats it", func(w http.ResponseWriter) { w.Header().Add("Vary", "origin") }, []string{"origin"}},
		{"non-canonical key", func(w http.ResponseWriter) { w.Header()["vary"] = []string{"Cookie"} }, []string{"cookie", "origin"}},
		{"Del", func(w http.ResponseWriter) { w.Header().Del("Vary") }, []string{"origin"}},
		{"*", func(w http.ResponseWriter) { w.Header().Set("Vary", "*") }, []string{"*"}},
	}
	for _, h2 := range []bool{false, true} {
		for _, under := range []bool{false, true} {
			for _, e := range edits {
				for _, write := range []bool{false, true} {
					name := e.desc + "/write=" + strconv.FormatBool(write) + "/under=" + strconv.FormatBool(under) + "/h2=" + strconv.FormatBool(h2)
					t.Run(name, func(t *testing.T) {
						var h http.Handler = m.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
							e.edit(w)
							if write {
								_, _ = io.WriteString(w, "ok")
							}
						}))
						if under {
							h = outer(h)
						}
						ts := httptest.NewUnstartedServer(h)
						ts.EnableHTTP2 = h2
						ts.StartTLS()
						defer ts.Close()
						c := ts.Client()
						c.Timeout = 10 * time.Second
						for _, o := range []string{origin, "https://other.example"} {
							req, _ := http.NewRequest(http.MethodGet, ts.URL, nil)
							req.Header.Set("Origin", o)
							res, err := c.Do(req)
							if err != nil {
								t.Fatal(err)
							}
							_, _ = io.Copy(io.Discard, res.Body)
							res.Body.Close()
							if got := varyTokens(res.Header); !slices.Equal(got, e.want) {
								t.Errorf("Origin %s: Vary %q, want tokens %q", o, res.Header.Values("Vary"), e.want)
							}
							if n := len(res.Header.Values("Vary")); n != 1 {
								t.Errorf("Origin %s: Vary %q in %d lines, want 1", o, res.Header.Values("Vary"), n)
							}
						}
					})
				}
			}
		}
	}
}

// A preflight passed through to the handler keeps the request fields it
// depends on in Vary when the handler replaces the field.
func TestPassthroughPreflightVarySurvivesTheHandler(t *testing.T) {
	m, err := cors.New(cors.Config{Origins: []string{"https://app.example.com"}, PreflightPassthrough: true})
	if err != nil {
		t.Fatal(err)
	}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Vary", "Accept")
		w.WriteHeader(http.StatusNoContent)
	}))
	req := httptest.NewRequest(http.MethodOptions, "/", nil)
	req.Header.Set("Origin", "https://app.example.com")
	req.Header.Set("Access-Control-Request-Method", http.MethodGet)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	want := []string{"accept", "access-control-request-headers", "access-control-request-method", "origin"}
	if got := varyTokens(rec.Header()); !slices.Equal(got, want) {
		t.Errorf("Vary %q, want tokens %q", rec.Header().Values("Vary"), want)
	}
}
