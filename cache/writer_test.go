package cache_test

import (
	"bufio"
	"bytes"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jiec/httpmw/cache"
)

// Behaviour through the shared writer (internal/writer): non-canonical ETag
// keys, Vary after the handler, late headers and trailers, hijacks.

type lockedLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
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

// A handler's own ETag under the non-canonical key "ETag" is its validator:
// cache generates none next to it (one ETag line) and revalidates against it.
func TestNonCanonicalETagIsTheValidator(t *testing.T) {
	m, _ := cache.New(cache.Config{})
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header()["ETag"] = []string{`"h1"`}
		_, _ = io.WriteString(w, "body")
	}))
	servers(t, h, func(t *testing.T, url string, c *http.Client) {
		res, _ := get(t, c, http.MethodGet, url)
		if got := res.Header.Values("Etag"); !slices.Equal(got, []string{`"h1"`}) {
			t.Errorf("ETag lines %q, want one \"h1\"", got)
		}
		res, body := get(t, c, http.MethodGet, url, "If-None-Match", `"h1"`)
		if res.StatusCode != http.StatusNotModified || body != "" {
			t.Errorf("revalidation: %d %q, want 304", res.StatusCode, body)
		}
	})
}

// Config.Vary is in Vary whatever the handler did to the field, also on the
// 304 the middleware answers.
func TestConfigVarySurvivesTheHandler(t *testing.T) {
	m, _ := cache.New(cache.Config{Vary: []string{"Accept-Language"}})
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Vary", "Accept")
		_, _ = io.WriteString(w, "body")
	}))
	servers(t, h, func(t *testing.T, url string, c *http.Client) {
		res, _ := get(t, c, http.MethodGet, url)
		want := []string{"accept", "accept-language"}
		if got := varyTokens(res.Header); !slices.Equal(got, want) {
			t.Errorf("200 Vary %q, want %q", res.Header.Values("Vary"), want)
		}
		res, _ = get(t, c, http.MethodGet, url, "If-None-Match", res.Header.Get("Etag"))
		if got := varyTokens(res.Header); res.StatusCode != http.StatusNotModified || !slices.Equal(got, want) {
			t.Errorf("%d Vary %q, want 304 with %q", res.StatusCode, res.Header.Values("Vary"), want)
		}
	})
}

// While cache holds the status to hash the body, header changes the handler
// makes after its Write do not reach the client (as with a bare net/http
// writer), and a declared trailer is sent as a trailer only.
func TestLateHeadersWhileBuffering(t *testing.T) {
	m, _ := cache.New(cache.Config{})
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Trailer", "X-Sum")
		_, _ = io.WriteString(w, "body")
		w.Header().Set("X-Late", "1")
		w.Header().Set("X-Sum", "abc")
	}))
	servers(t, h, func(t *testing.T, url string, c *http.Client) {
		res, body := get(t, c, http.MethodGet, url)
		if body != "body" || res.Header.Get("X-Late") != "" || res.Header.Get("X-Sum") != "" || res.Trailer.Get("X-Sum") != "abc" {
			t.Errorf("body %q, X-Late %q, X-Sum %q, trailer %v; want no late header, X-Sum only as a trailer", body, res.Header.Get("X-Late"), res.Header.Get("X-Sum"), res.Trailer)
		}
		if res.Header.Get("Etag") == "" {
			t.Errorf("no generated ETag")
		}
	})
}

// A handler that hijacks after writing (buffered by cache) gets the
// connection: cache sends nothing of what it buffered, and nothing after.
func TestNothingSentAfterHijack(t *testing.T) {
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		t.Run(method, func(t *testing.T) {
			var errLog lockedLog
			m, _ := cache.New(cache.Config{})
			done := make(chan struct{})
			ts := httptest.NewUnstartedServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				defer close(done)
				_, _ = io.WriteString(w, "buffered-by-cache")
				conn, brw, err := w.(http.Hijacker).Hijack()
				if err != nil {
					t.Errorf("Hijack: %v", err)
					return
				}
				defer conn.Close()
				_, _ = brw.WriteString("raw end")
				_ = brw.Flush()
			})))
			ts.Config.ErrorLog = log.New(&errLog, "", 0)
			ts.Start()
			defer ts.Close()
			conn, err := net.DialTimeout("tcp", ts.Listener.Addr().String(), 10*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
			_, _ = io.WriteString(conn, method+" / HTTP/1.1\r\nHost: x\r\n\r\n")
			raw, _ := io.ReadAll(bufio.NewReader(conn))
			<-done
			ts.Close()
			if !bytes.HasSuffix(raw, []byte("raw end")) || bytes.Contains(raw, []byte("buffered-by-cache")) || bytes.Contains(raw, []byte("Etag")) {
				t.Errorf("connection got %q, want only the status line before the hijacker's bytes", raw)
			}
			if s := errLog.String(); s != "" {
				t.Errorf("server logged %q", s)
			}
		})
	}
}
