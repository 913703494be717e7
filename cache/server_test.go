package cache_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jiec/httpmw/cache"
	"github.com/jiec/httpmw/compress"
)

// These tests run the middleware in a real server, over HTTP/1.1 and HTTP/2.

func servers(t *testing.T, h http.Handler, test func(t *testing.T, url string, c *http.Client)) {
	for _, h2 := range []bool{false, true} {
		name := "HTTP1"
		if h2 {
			name = "HTTP2"
		}
		t.Run(name, func(t *testing.T) {
			ts := httptest.NewUnstartedServer(h)
			if h2 {
				ts.EnableHTTP2 = true
				ts.StartTLS()
			} else {
				ts.Start()
			}
			defer ts.Close()
			c := ts.Client()
			defer c.CloseIdleConnections()
			test(t, ts.URL, c)
		})
	}
}

func get(t *testing.T, c *http.Client, method, url string, kv ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	for i := 0; i < len(kv); i += 2 {
		req.Header.Add(kv[i], kv[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func TestOnTheWireRevalidation(t *testing.T) {
	m, _ := cache.New(cache.Config{CacheControl: cache.CacheControl{}.NoCache()})
	servers(t, m.Handler(http.HandlerFunc(full200)), func(t *testing.T, url string, c *http.Client) {
		resp, b := get(t, c, "GET", url)
		tag := resp.Header.Get("Etag")
		if resp.StatusCode != 200 || b != `{"a":1}` || tag != sha(`{"a":1}`) || resp.ContentLength != 7 {
			t.Fatalf("200: %d %q ETag %q length %d", resp.StatusCode, b, tag, resp.ContentLength)
		}
		head, _ := get(t, c, "HEAD", url)
		if head.Header.Get("Etag") != tag || head.ContentLength != 7 {
			t.Errorf("HEAD: ETag %q length %d, want GET's", head.Header.Get("Etag"), head.ContentLength)
		}
		resp, b = get(t, c, "GET", url, "If-None-Match", `"other"`, "If-None-Match", "W/"+tag)
		if resp.StatusCode != 304 || b != "" || resp.Header.Get("Content-Type") != "" || resp.Header.Get("Etag") != tag ||
			resp.Header.Get("Cache-Control") != "max-age=60" || resp.Header.Get("Date") == "" {
			t.Errorf("304: %d %q %v", resp.StatusCode, b, resp.Header)
		}
	})
}

func TestOnTheWireStreamingIsNotHeld(t *testing.T) {
	release := make(chan struct{})
	h := cache.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: first\n\n")
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("Flush: %v", err)
		}
		if err := http.NewResponseController(w).SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			t.Errorf("SetWriteDeadline through the wrapper: %v", err)
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
		_, _ = io.WriteString(w, "data: second\n\n")
	}))
	servers(t, h, func(t *testing.T, url string, c *http.Client) {
		resp, err := c.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		buf := make([]byte, len("data: first\n\n"))
		if _, err := io.ReadFull(resp.Body, buf); err != nil || string(buf) != "data: first\n\n" {
			t.Fatalf("first event before the handler finished: %q %v", buf, err)
		}
		if resp.Header.Get("Etag") != "" {
			t.Errorf("streamed response has ETag %q", resp.Header.Get("Etag"))
		}
		release <- struct{}{}
		rest, _ := io.ReadAll(resp.Body)
		if string(rest) != "data: second\n\n" {
			t.Errorf("rest: %q", rest)
		}
	})
}

func TestOnTheWireTrailersSurviveBuffering(t *testing.T) {
	h := cache.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Checksum")
		_, _ = io.WriteString(w, "payload")
		w.Header().Set("X-Checksum", "42")
	}))
	servers(t, h, func(t *testing.T, url string, c *http.Client) {
		resp, b := get(t, c, "GET", url)
		if b != "payload" || resp.Trailer.Get("X-Checksum") != "42" || resp.Header.Get("Etag") != sha("payload") {
			t.Errorf("got %q trailer %v ETag %q", b, resp.Trailer, resp.Header.Get("Etag"))
		}
	})
}

// TestOnTheWireTrailerPrefixKeysKeepTheBodyChunked: a trailer set under
// http.TrailerPrefix in the header map (no Trailer declaration) needs
// chunked encoding over HTTP/1.1: the held body gets no Content-Length and
// the trailer arrives, whether the key was there at the commit (seen by
// the walk that folds keys then) or was added afterwards through the map
// the handler kept from before the commit (the status is held, the map not
// yet sent: a second walk finds it). The ETag is generated all the same.
func TestOnTheWireTrailerPrefixKeysKeepTheBodyChunked(t *testing.T) {
	for _, c := range []struct {
		name  string
		serve func(w http.ResponseWriter)
	}{
		{"set before the first write", func(w http.ResponseWriter) {
			w.Header().Set(http.TrailerPrefix+"X-Checksum", "42")
			_, _ = io.WriteString(w, "payload")
		}},
		{"added after it to the kept map", func(w http.ResponseWriter) {
			h := w.Header()
			_, _ = io.WriteString(w, "payload")
			h[http.TrailerPrefix+"X-Checksum"] = []string{"42"}
		}},
		{"replacing a field after it in the kept map", func(w http.ResponseWriter) {
			h := w.Header()
			h.Set("X-Extra", "1")
			_, _ = io.WriteString(w, "payload")
			h.Set("X-Extra", "2")
			h[http.TrailerPrefix+"X-Checksum"] = []string{"42"}
		}},
		{"deleting a field and adding the key after it in the kept map", func(w http.ResponseWriter) {
			h := w.Header()
			h.Set("X-Extra", "1")
			_, _ = io.WriteString(w, "payload")
			delete(h, "X-Extra") // the map keeps its size
			h[http.TrailerPrefix+"X-Checksum"] = []string{"42"}
		}},
		{"set through Header after the write", func(w http.ResponseWriter) {
			_, _ = io.WriteString(w, "payload")
			w.Header().Set(http.TrailerPrefix+"X-Checksum", "42")
		}},
		{"set through Header after a long write", func(w http.ResponseWriter) {
			_, _ = io.WriteString(w, "payload")
			_, _ = io.WriteString(w, strings.Repeat("x", 5000))
			w.Header().Set(http.TrailerPrefix+"X-Checksum", "42")
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := cache.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { c.serve(w) }))
			servers(t, h, func(t *testing.T, url string, cl *http.Client) {
				resp, b := get(t, cl, "GET", url)
				chunked := resp.ContentLength == -1 || resp.ProtoMajor == 2 // HTTP/2 has no chunks: its server may measure the body
				want := "payload"
				if strings.Contains(c.name, "long") {
					want += strings.Repeat("x", 5000)
				}
				if b != want || resp.Trailer.Get("X-Checksum") != "42" || !chunked || resp.Header.Get("Etag") != cache.GeneratedETag(want) {
					t.Errorf("got %d bytes, trailer %v, Content-Length %d, ETag %q", len(b), resp.Trailer, resp.ContentLength, resp.Header.Get("Etag"))
				}
			})
		})
	}
}

// TestOnTheWireContentLength: every held body goes out with its
// Content-Length, never chunked, over both protocols. Empty GET responses
// too.
func TestOnTheWireContentLength(t *testing.T) {
	sizes := []int{0, 1, 25, 2047, 2048, 2049, 4096, 4097, 100000}
	h := cache.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		w.Header().Set("Content-Type", "text/plain")
		if n == 0 {
			w.WriteHeader(200) // an explicit empty 200
		}
		for n > 0 { // in pieces, as handlers write
			k := min(n, 700)
			_, _ = w.Write([]byte(strings.Repeat("x", k)))
			n -= k
		}
	}))
	servers(t, h, func(t *testing.T, url string, c *http.Client) {
		for _, n := range sizes {
			for _, method := range []string{"GET", "HEAD"} {
				resp, b := get(t, c, method, url+"?n="+strconv.Itoa(n))
				want, length := n, int64(n)
				if method == "HEAD" {
					want = 0
					if n == 0 {
						length = -1 // a HEAD handler that writes nothing: the length is unknown (as for GET's ETag, TestHEADWithoutBodyGetsNoETag)
					}
				}
				if resp.StatusCode != 200 || len(b) != want || resp.ContentLength != length || len(resp.TransferEncoding) != 0 {
					t.Errorf("%s %d bytes: %d, %d bytes, Content-Length %d, Transfer-Encoding %q", method, n, resp.StatusCode, len(b), resp.ContentLength, resp.TransferEncoding)
				}
			}
		}
	})
}

// TestOnTheWireContentLengthSurvivesAnOuterFlush: net/http measures a small
// body only if nothing flushed it before the handler chain returns. A layer
// outside cache that flushes once the inner handler is done (a logging or
// metrics wrapper ending with http.ResponseController.Flush) sent a held
// body of up to 2 KiB chunked over HTTP/1.1, and without any length over
// HTTP/2 and for HEAD, when cache left the field to the server.
func TestOnTheWireContentLengthSurvivesAnOuterFlush(t *testing.T) {
	inner := cache.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, strings.Repeat("x", n))
	}))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner.ServeHTTP(w, r)
		_ = http.NewResponseController(w).Flush()
	})
	servers(t, h, func(t *testing.T, url string, c *http.Client) {
		for _, n := range []int{1, 25, 2048, 2049} {
			for _, method := range []string{"GET", "HEAD"} {
				resp, b := get(t, c, method, url+"?n="+strconv.Itoa(n))
				want := n
				if method == "HEAD" {
					want = 0
				}
				if resp.StatusCode != 200 || len(b) != want || resp.ContentLength != int64(n) || len(resp.TransferEncoding) != 0 || resp.Header.Get("Etag") == "" {
					t.Errorf("%s %d bytes: %d, %d bytes, Content-Length %d, Transfer-Encoding %q, ETag %q", method, n, resp.StatusCode, len(b), resp.ContentLength, resp.TransferEncoding, resp.Header.Get("Etag"))
				}
			}
		}
	})
}

// TestOnTheWireLateTrailerThroughCompress: a TrailerPrefix key set through
// Header after the status reaches the client with compress inside cache
// (its Writer hands the value to cache's copy, cache's end hands it down
// before the status) and outside (the map below cache), encoded or not,
// small bodies and large.
func TestOnTheWireLateTrailerThroughCompress(t *testing.T) {
	cm, _ := compress.New(compress.Config{})
	for _, inside := range []bool{true, false} {
		for _, n := range []int{10, 3000} {
			var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.WriteString(w, strings.Repeat("x", n))
				w.Header().Set(http.TrailerPrefix+"X-Sum", "42")
			})
			if inside {
				h = cache.Handler(cm.Handler(h))
			} else {
				h = cm.Handler(cache.Handler(h))
			}
			t.Run(fmt.Sprintf("compress inside %v/%d bytes", inside, n), func(t *testing.T) {
				servers(t, h, func(t *testing.T, url string, c *http.Client) {
					for _, ae := range []string{"gzip", "identity"} {
						resp, b := get(t, c, "GET", url, "Accept-Encoding", ae)
						plain := resp.Header.Get("Content-Encoding") == "" // the client decodes nothing it did not ask for
						if (plain && len(b) != n) || resp.Trailer.Get("X-Sum") != "42" || resp.Header.Get("Etag") == "" {
							t.Errorf("%s: %d bytes, trailer %v, ETag %q", ae, len(b), resp.Trailer, resp.Header.Get("Etag"))
						}
					}
				})
			})
		}
	}
}
