package compress_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/jiec/httpmw/compress"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
)

// streamDecoder wraps a response body in the decoder for ce. Decoders are
// built lazily by the caller's first Read so that a gzip header does not
// need to arrive before the function returns.
func streamDecoder(t *testing.T, ce string, body io.Reader) io.Reader {
	t.Helper()
	switch ce {
	case "gzip":
		r, err := gzip.NewReader(body)
		if err != nil {
			t.Fatal(err)
		}
		return r
	case "deflate":
		r, err := zlib.NewReader(body)
		if err != nil {
			t.Fatal(err)
		}
		return r
	case "br":
		return brotli.NewReader(body)
	case "zstd":
		d, err := zstd.NewReader(body, zstd.WithDecoderConcurrency(1))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(d.Close)
		return d
	}
	return body
}

// TestServerSentEventsArriveAsTheyAreFlushed runs SSE through compress on a
// real server (HTTP/1.1 and HTTP/2). The handler sends event i+1 only after
// the client has decoded event i, so the test deadlocks (and fails at the
// context deadline) unless every Flush reaches the client.
func TestServerSentEventsArriveAsTheyAreFlushed(t *testing.T) {
	flushers := map[string]func(http.ResponseWriter) error{
		"http.Flusher": func(w http.ResponseWriter) error {
			w.(http.Flusher).Flush()
			return nil
		},
		"ResponseController": func(w http.ResponseWriter) error {
			return http.NewResponseController(w).Flush()
		},
	}
	m := newMW(t, compress.Config{})
	for _, proto := range []string{"HTTP/1.1", "HTTP/2"} {
		for fname, flush := range flushers {
			for _, enc := range []string{"zstd", "br", "gzip", "deflate"} {
				t.Run(proto+"/"+fname+"/"+enc, func(t *testing.T) {
					next := make(chan struct{})
					errs := make(chan error, 8)
					h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						w.Header().Set("Content-Type", "text/event-stream")
						w.WriteHeader(http.StatusOK)
						// Headers must reach the client before any event exists.
						if err := flush(w); err != nil {
							errs <- err
						}
						for i := range 3 {
							select {
							case <-next:
							case <-r.Context().Done():
								return
							}
							fmt.Fprintf(w, "id: %d\ndata: event %d\n\n", i, i)
							if err := flush(w); err != nil {
								errs <- err
							}
						}
					}))
					srv := httptest.NewUnstartedServer(h)
					if proto == "HTTP/2" {
						srv.EnableHTTP2 = true
						srv.StartTLS()
					} else {
						srv.Start()
					}
					defer srv.Close()
					client := srv.Client()
					client.Transport.(*http.Transport).DisableCompression = true
					defer client.CloseIdleConnections()

					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					defer cancel()
					req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
					req.Header.Set("Accept-Encoding", enc)
					resp, err := client.Do(req) // returns once the header flush arrived
					if err != nil {
						t.Fatal(err)
					}
					defer resp.Body.Close()
					if want := map[string]int{"HTTP/1.1": 1, "HTTP/2": 2}[proto]; resp.ProtoMajor != want {
						t.Fatalf("proto = %s", resp.Proto)
					}
					if got := resp.Header.Get("Content-Encoding"); got != enc {
						t.Fatalf("Content-Encoding = %q, want %q", got, enc)
					}
					next <- struct{}{}
					br := bufio.NewReader(streamDecoder(t, enc, resp.Body))
					for i := range 3 {
						var ev strings.Builder
						for !strings.HasSuffix(ev.String(), "\n\n") {
							line, err := br.ReadString('\n')
							if err != nil {
								t.Fatalf("event %d: %v (got %q)", i, err, ev.String())
							}
							ev.WriteString(line)
						}
						if want := fmt.Sprintf("id: %d\ndata: event %d\n\n", i, i); ev.String() != want {
							t.Fatalf("event %d = %q, want %q", i, ev.String(), want)
						}
						if i < 2 {
							next <- struct{}{}
						}
					}
					if rest, err := io.ReadAll(br); err != nil || len(rest) != 0 {
						t.Fatalf("after the events: %q, %v", rest, err)
					}
					close(errs)
					for err := range errs {
						t.Errorf("flush: %v", err)
					}
				})
			}
		}
	}
}

func TestHijackAndDeadlinesWorkThroughResponseController(t *testing.T) {
	m := newMW(t, compress.Config{})
	srv := httptest.NewServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if err := rc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			t.Errorf("SetWriteDeadline: %v", err)
		}
		conn, buf, err := rc.Hijack()
		if err != nil {
			t.Errorf("Hijack: %v", err)
			return
		}
		defer conn.Close()
		_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\nhijacked")
		_ = buf.Flush()
	})))
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	client := srv.Client()
	client.Transport.(*http.Transport).DisableCompression = true
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if string(b) != "hijacked" || resp.Header.Get("Content-Encoding") != "" {
		t.Fatalf("body %q, Content-Encoding %q", b, resp.Header.Get("Content-Encoding"))
	}
}

func TestUnwrapReachesTheServerWriter(t *testing.T) {
	m := newMW(t, compress.Config{})
	inner := httptest.NewRecorder()
	var seen http.ResponseWriter
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		seen = w.(interface{ Unwrap() http.ResponseWriter }).Unwrap()
	})).ServeHTTP(inner, get("gzip"))
	if seen != inner {
		t.Fatalf("Unwrap() = %T, want the server's writer", seen)
	}
}

// TestFlushBelowMinSizeStartsCompression: a flushed response is never held
// back waiting for MinSize (httpcompression v0.0.8 sends 0 bytes at a flush
// below its minimum size).
func TestFlushBelowMinSizeStartsCompression(t *testing.T) {
	m := newMW(t, compress.Config{})
	rec := httptest.NewRecorder()
	var atFlush int
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"a":1}`))
		w.(http.Flusher).Flush()
		atFlush = rec.Body.Len()
		_, _ = w.Write([]byte(`{"b":2}`))
	})).ServeHTTP(rec, get("gzip"))
	if atFlush == 0 || !rec.Flushed {
		t.Fatalf("nothing reached the client at Flush (%d bytes, flushed %v)", atFlush, rec.Flushed)
	}
	if got := decode(t, "gzip", rec.Body.Bytes()); !bytes.Equal(got, []byte(`{"a":1}{"b":2}`)) {
		t.Fatalf("body = %q", got)
	}
}
