package compress_test

import (
	"bufio"
	"bytes"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jiec/httpmw/compress"
)

// Behaviour through the shared writer (internal/writer): Vary survives the
// handler, non-canonical ETag keys, hijacks.

// lockedLog is a server ErrorLog read after the handler returned.
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

// roundTrip serves h over HTTP/1.1 or HTTP/2 and sends one GET with hdr.
func roundTrip(t *testing.T, h2 bool, h http.Handler, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	ts := httptest.NewUnstartedServer(h)
	ts.EnableHTTP2 = h2
	ts.StartTLS()
	defer ts.Close()
	c := ts.Client()
	c.Timeout = 10 * time.Second
	c.Transport.(*http.Transport).DisableCompression = true
	req, _ := http.NewRequest(http.MethodGet, ts.URL, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, b
}

func tokens(h http.Header, field string) []string {
	var out []string
	for _, line := range h.Values(field) {
		for e := range strings.SplitSeq(line, ",") {
			if e = strings.ToLower(strings.TrimSpace(e)); e != "" {
				out = append(out, e)
			}
		}
	}
	slices.Sort(out)
	return out
}

func TestVaryAcceptEncodingSurvivesTheHandler(t *testing.T) {
	big := strings.Repeat("compressible text ", 200)
	cases := []struct {
		desc string
		edit func(h http.Header)
		want []string
	}{
		{"Set", func(h http.Header) { h.Set("Vary", "Accept") }, []string{"accept", "accept-encoding"}},
		{"Add repeats it", func(h http.Header) { h.Add("Vary", "accept-encoding") }, []string{"accept-encoding"}},
		{"non-canonical key", func(h http.Header) { h["vary"] = []string{"Cookie"} }, []string{"accept-encoding", "cookie"}},
		{"Del", func(h http.Header) { h.Del("Vary") }, []string{"accept-encoding"}},
		{"* alone", func(h http.Header) { h.Set("Vary", "*") }, []string{"*"}},
	}
	for _, h2 := range []bool{false, true} {
		for _, tc := range cases {
			t.Run(tc.desc+"/h2="+strconv.FormatBool(h2), func(t *testing.T) {
				h := compress.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
					w.Header().Set("Content-Type", "text/plain")
					tc.edit(w.Header())
					_, _ = io.WriteString(w, big)
				}))
				res, _ := roundTrip(t, h2, h, map[string]string{"Accept-Encoding": "gzip"})
				if got := tokens(res.Header, "Vary"); !slices.Equal(got, tc.want) {
					t.Errorf("Vary %q, want tokens %q", res.Header.Values("Vary"), tc.want)
				}
				if n := len(res.Header.Values("Vary")); n != 1 {
					t.Errorf("Vary %q in %d lines, want 1", res.Header.Values("Vary"), n)
				}
			})
		}
	}
}

// A handler that writes w.Header()["ETag"] (a non-canonical key, which
// net/http sends as it is) gets its strong tag suffixed on the compressed
// response, in one ETag line.
func TestNonCanonicalETagIsSuffixedOnce(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		h := compress.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			w.Header()["ETag"] = []string{`"v1"`}
			_, _ = io.WriteString(w, strings.Repeat("compressible text ", 200))
		}))
		res, _ := roundTrip(t, h2, h, map[string]string{"Accept-Encoding": "gzip"})
		if got := res.Header.Values("Etag"); !slices.Equal(got, []string{`"v1-gzip"`}) || res.Header.Get("Content-Encoding") != "gzip" {
			t.Errorf("h2=%v: ETag lines %q, Content-Encoding %q; want one \"v1-gzip\" and gzip", h2, got, res.Header.Get("Content-Encoding"))
		}
	}
}

// After a hijack compress writes nothing: no gzip trailer on the hijacked
// connection (net/http would log the refused write).
func TestNothingWrittenAfterHijack(t *testing.T) {
	for _, tc := range []struct{ method, before string }{{"GET", "nothing"}, {"GET", "compressed body"}, {"HEAD", "nothing"}} {
		before := tc.before
		t.Run(tc.method+"/"+before, func(t *testing.T) {
			var errLog lockedLog
			done := make(chan struct{})
			ts := httptest.NewUnstartedServer(compress.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				defer close(done)
				w.Header().Set("Content-Type", "text/plain")
				if before != "nothing" {
					_, _ = io.WriteString(w, strings.Repeat("compressible text ", 200))
				}
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
			_, _ = io.WriteString(conn, tc.method+" / HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n")
			raw, _ := io.ReadAll(bufio.NewReader(conn))
			<-done
			ts.Close()
			if !bytes.HasSuffix(raw, []byte("raw end")) {
				t.Errorf("connection got %q, want it to end with the hijacker's bytes", raw)
			}
			if s := errLog.String(); s != "" {
				t.Errorf("server logged %q", s)
			}
		})
	}
}
