package security_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jiec/httpmw/cors"
	"github.com/jiec/httpmw/security"
)

// Behaviour through the shared writer (internal/writer).

// A legacy w.(http.Hijacker) assertion (gorilla/websocket) holds through
// security: the connection is taken over on HTTP/1.1, and on HTTP/2 Hijack
// returns http.ErrNotSupported instead of the assertion failing.
func TestHijackerThroughSecurity(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		errs := make(chan error, 1)
		h := security.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			hj, ok := w.(http.Hijacker)
			if !ok {
				errs <- errors.New("not a Hijacker")
				http.Error(w, "not a Hijacker", http.StatusInternalServerError)
				return
			}
			conn, brw, err := hj.Hijack()
			errs <- err
			if err != nil {
				http.Error(w, err.Error(), http.StatusTeapot)
				return
			}
			defer conn.Close()
			_, _ = brw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\nhijacked")
			_ = brw.Flush()
		}))
		ts := httptest.NewUnstartedServer(h)
		ts.EnableHTTP2 = h2
		ts.StartTLS()
		c := ts.Client()
		c.Timeout = 10 * time.Second
		res, err := c.Get(ts.URL)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		err = <-errs
		ts.Close()
		if h2 && (!errors.Is(err, http.ErrNotSupported) || res.StatusCode != http.StatusTeapot) {
			t.Errorf("HTTP/2: Hijack %v, status %d; want ErrNotSupported", err, res.StatusCode)
		}
		if !h2 && (err != nil || string(body) != "hijacked") {
			t.Errorf("HTTP/1.1: Hijack %v, body %q", err, body)
		}
	}
}

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

// The 421 security answers itself for a host outside RedirectHosts keeps
// the Vary of a layer outside it (cors), and a handler's Vary under
// security comes out without duplicates, "*" alone.
func TestVaryThroughSecurity(t *testing.T) {
	co, err := cors.New(cors.Config{Origins: []string{"https://app.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := security.New(security.Config{RedirectHosts: []string{"example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	h := co.Handler(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Vary", "Accept")
	})))
	req := httptest.NewRequest(http.MethodGet, "http://other.example/", nil)
	req.Header.Set("Origin", "https://app.example.com")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusMisdirectedRequest || !slices.Equal(varyTokens(rec.Header()), []string{"origin"}) {
		t.Errorf("%d Vary %q, want 421 with Origin", rec.Code, rec.Header().Values("Vary"))
	}

	for _, tc := range []struct {
		edit func(http.Header)
		want []string
	}{
		{func(h http.Header) { h.Add("Vary", "Accept"); h.Add("Vary", "accept, Cookie") }, []string{"accept", "cookie"}},
		{func(h http.Header) { h["vary"] = []string{"Cookie, *"} }, []string{"*"}},
	} {
		h := security.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			tc.edit(w.Header())
			_, _ = io.WriteString(w, "ok")
		}))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "https://example.com/", nil))
		keys := 0 // Vary under any spelling: one canonical key only
		for k := range rec.Header() {
			if strings.EqualFold(k, "Vary") {
				keys++
			}
		}
		if got := varyTokens(rec.Header()); !slices.Equal(got, tc.want) || keys != 1 {
			t.Errorf("Vary %q (%d keys), want tokens %q under one key", rec.Header().Values("Vary"), keys, tc.want)
		}
	}
}
