package writer_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jiec/httpmw/internal/writer"
)

// These tests run each behaviour through a real httptest.Server over
// HTTP/1.1 and over HTTP/2 (TLS), once without any Writer (the net/http
// reference) and once per chain returned by stacks.

type proto struct {
	name string
	h2   bool
}

var protos = []proto{{"HTTP1", false}, {"HTTP2", true}}

// rig is one server running one handler through one stack.
type rig struct {
	st   stack
	h2   bool
	c    *http.Client
	url  string
	spy  *rfSpy // non-nil when the rig puts a ReadFrom spy under the stack
	done chan struct{}

	mu   sync.Mutex
	seen []seen
}

// forEach runs test for every protocol and stack, with h as the handler. With
// spy, an rfSpy sits between the server's writer and the stack.
func forEach(t *testing.T, spy bool, h http.HandlerFunc, test func(t *testing.T, r *rig)) {
	t.Helper()
	for _, p := range protos {
		for i := range stacks(nil) {
			r := &rig{h2: p.h2, done: make(chan struct{}, 16)}
			r.st = stacks(r.record)[i]
			t.Run(p.name+"/"+r.st.name, func(t *testing.T) {
				inner := r.st.wrap(h)
				ts := httptest.NewUnstartedServer(http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
					defer func() { r.done <- struct{}{} }()
					if spy {
						s := &rfSpy{ResponseWriter: rw}
						r.mu.Lock()
						r.spy = s
						r.mu.Unlock()
						rw = s
					}
					inner.ServeHTTP(rw, req)
				}))
				// Some cases call WriteHeader twice on purpose.
				ts.Config.ErrorLog = log.New(io.Discard, "", 0)
				if p.h2 {
					ts.EnableHTTP2 = true
					ts.StartTLS()
				} else {
					ts.Start()
				}
				defer ts.Close()
				r.c, r.url = ts.Client(), ts.URL
				// A behaviour that breaks must fail the test, not hang it.
				r.c.Timeout = 10 * time.Second
				test(t, r)
			})
		}
	}
}

func (r *rig) record(s seen) {
	r.mu.Lock()
	r.seen = append(r.seen, s)
	r.mu.Unlock()
}

// do sends a request and reads the whole response; it fails the test if the
// protocol is not the one the rig was built for.
func (r *rig) do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	res, err := r.c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	if want := map[bool]int{false: 1, true: 2}[r.h2]; res.ProtoMajor != want {
		t.Fatalf("response protocol %s, want HTTP/%d", res.Proto, want)
	}
	return res, string(body)
}

func (r *rig) get(t *testing.T, method string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, r.url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r.do(t, req)
}

// wait blocks until the handler and every middleware returned, and returns
// what the observers saw (innermost first).
func (r *rig) wait(t *testing.T) []seen {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		t.Fatal("handler did not return")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.seen) != r.st.layers {
		t.Fatalf("%d observers reported, want %d", len(r.seen), r.st.layers)
	}
	return slices.Clone(r.seen)
}

// checkSeen fails unless every observer saw want.
func checkSeen(t *testing.T, got []seen, want seen) {
	t.Helper()
	for i, s := range got {
		if s != want {
			t.Errorf("observer %d saw %+v, want %+v", i, s, want)
		}
	}
}

func TestResponseControllerReachesConnection(t *testing.T) {
	type result struct{ write, read, duplex, flush error }
	format := func(r result) string {
		return fmt.Sprintf("SetWriteDeadline: %v, SetReadDeadline: %v, EnableFullDuplex: %v, Flush: %v", r.write, r.read, r.duplex, r.flush)
	}
	results := make(chan result, 1)
	h := func(w http.ResponseWriter, req *http.Request) {
		rc := http.NewResponseController(w)
		var res result
		res.write = rc.SetWriteDeadline(time.Now().Add(time.Minute))
		res.read = rc.SetReadDeadline(time.Now().Add(time.Minute))
		res.duplex = rc.EnableFullDuplex()
		_, _ = io.WriteString(w, "ok")
		res.flush = rc.Flush()
		results <- res
	}
	forEach(t, false, h, func(t *testing.T, r *rig) {
		res, body := r.get(t, http.MethodGet)
		if got := <-results; got != (result{}) {
			t.Errorf("ResponseController errors: %s; want all nil", format(got))
		}
		if res.StatusCode != http.StatusOK || body != r.st.want("ok") {
			t.Errorf("got %d %q, want 200 %q", res.StatusCode, body, r.st.want("ok"))
		}
		checkSeen(t, r.wait(t), seen{Calls: 1, Code: 200, Status: 200, Written: 2})
	})
}

func TestResponseControllerHijacksHTTP1(t *testing.T) {
	hijackErr := make(chan error, 1)
	h := func(w http.ResponseWriter, req *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		hijackErr <- err
		if err != nil {
			http.Error(w, "no hijack", http.StatusTeapot)
			return
		}
		defer conn.Close()
		_, _ = brw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\nhijacked")
		_ = brw.Flush()
	}
	forEach(t, false, h, func(t *testing.T, r *rig) {
		res, body := r.get(t, http.MethodGet)
		err := <-hijackErr
		if r.h2 {
			// RFC 9113 has no connection takeover; net/http says so.
			if !errors.Is(err, http.ErrNotSupported) || res.StatusCode != http.StatusTeapot {
				t.Errorf("HTTP/2 Hijack: %v (status %d), want ErrNotSupported", err, res.StatusCode)
			}
		} else if err != nil || body != "hijacked" {
			t.Errorf("HTTP/1 Hijack: %v, body %q, want nil error and %q", err, body, "hijacked")
		}
		r.wait(t)
	})
}

func TestFlushReachesClientBeforeHandlerReturns(t *testing.T) {
	for _, how := range []string{"Flusher", "ResponseController"} {
		t.Run(how, func(t *testing.T) {
			release := make(chan struct{})
			h := func(w http.ResponseWriter, req *http.Request) {
				_, _ = io.WriteString(w, "first ")
				if how == "Flusher" {
					f, ok := w.(http.Flusher)
					if !ok {
						t.Error("writer is not an http.Flusher")
						return
					}
					f.Flush()
				} else if err := http.NewResponseController(w).Flush(); err != nil {
					t.Errorf("Flush: %v", err)
				}
				select {
				case <-release:
				case <-req.Context().Done():
				}
				_, _ = io.WriteString(w, "second")
			}
			forEach(t, false, h, func(t *testing.T, r *rig) {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, r.url, nil)
				res, err := r.c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				first := make([]byte, len("first "))
				if _, err := io.ReadFull(res.Body, first); err != nil {
					t.Fatalf("flushed bytes did not arrive: %v", err)
				}
				release <- struct{}{}
				rest, err := io.ReadAll(res.Body)
				if err != nil {
					t.Fatal(err)
				}
				if got := string(first) + string(rest); got != r.st.want("first second") {
					t.Errorf("body %q, want %q", got, r.st.want("first second"))
				}
				r.wait(t)
			})
		})
	}
}

func TestEnableFullDuplexInterleavesBodies(t *testing.T) {
	h := func(w http.ResponseWriter, req *http.Request) {
		rc := http.NewResponseController(w)
		if err := rc.EnableFullDuplex(); err != nil {
			t.Errorf("EnableFullDuplex: %v", err)
		}
		w.WriteHeader(http.StatusOK)
		_ = rc.Flush()
		var b [1]byte
		for {
			if n, err := req.Body.Read(b[:]); n != 1 || err != nil {
				return
			}
			_, _ = w.Write(b[:])
			if err := rc.Flush(); err != nil {
				t.Errorf("Flush: %v", err)
			}
		}
	}
	forEach(t, false, h, func(t *testing.T, r *rig) {
		pr, pw := io.Pipe()
		// Client.Timeout does not interrupt a round trip whose request body
		// is still open (the transport waits for the body writer), so a
		// broken behaviour would hang: close both ends on a deadline.
		var mu sync.Mutex
		var resBody io.Closer
		stop := time.AfterFunc(10*time.Second, func() {
			pw.CloseWithError(errors.New("test deadline"))
			mu.Lock()
			defer mu.Unlock()
			if resBody != nil {
				resBody.Close()
			}
		})
		defer stop.Stop()
		res, err := r.c.Post(r.url, "text/plain", pr)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		mu.Lock()
		resBody = res.Body
		mu.Unlock()
		for c := byte('a'); c <= 'j'; c++ {
			if _, err := pw.Write([]byte{c}); err != nil {
				t.Fatal(err)
			}
			var b [1]byte
			if _, err := io.ReadFull(res.Body, b[:]); err != nil {
				t.Fatalf("echo of %q: %v", c, err)
			}
			if want := r.st.want(string(c)); string(b[:]) != want {
				t.Fatalf("echo %q, want %q", b[:], want)
			}
		}
		pw.Close()
		_, _ = io.Copy(io.Discard, res.Body)
		r.wait(t)
	})
}

func TestSetWriteDeadlineReachesConnection(t *testing.T) {
	// A deadline in the past makes the connection (HTTP/1) or the stream
	// (HTTP/2) fail: the client sees an error instead of the body.
	h := func(w http.ResponseWriter, req *http.Request) {
		if err := http.NewResponseController(w).SetWriteDeadline(time.Unix(1, 0)); err != nil {
			t.Errorf("SetWriteDeadline: %v", err)
		}
		chunk := bytes.Repeat([]byte("x"), 32<<10)
		for range 64 {
			if _, err := w.Write(chunk); err != nil {
				return
			}
			if err := http.NewResponseController(w).Flush(); err != nil {
				return
			}
		}
	}
	forEach(t, false, h, func(t *testing.T, r *rig) {
		res, err := r.c.Get(r.url)
		if err == nil {
			_, err = io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
		if err == nil {
			t.Error("response arrived whole despite a write deadline in the past")
		}
		r.wait(t)
	})
}

func TestReadFromReachesServerWriterUnlessTransformed(t *testing.T) {
	content := strings.Repeat("sendfile path ", 10<<10)
	name := filepath.Join(t.TempDir(), "file.txt")
	if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	h := func(w http.ResponseWriter, req *http.Request) {
		f, err := os.Open(name)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		fi, _ := f.Stat()
		w.Header().Set("Content-Type", "text/plain")
		http.ServeContent(w, req, "", fi.ModTime(), f) // io.CopyN → ReadFrom
	}
	forEach(t, true, h, func(t *testing.T, r *rig) {
		res, body := r.get(t, http.MethodGet)
		if res.StatusCode != http.StatusOK || body != r.st.want(content) {
			t.Fatalf("status %d, body of %d bytes, want 200 and %d bytes", res.StatusCode, len(body), len(content))
		}
		seenBy := r.wait(t)
		r.mu.Lock()
		calls, src := r.spy.calls, r.spy.src
		r.mu.Unlock()
		if r.st.upper {
			if calls != 0 {
				t.Errorf("ReadFrom bypassed the body interceptor (%d calls below it)", calls)
			}
			return
		}
		if calls != 1 {
			t.Fatalf("ReadFrom of the writer below called %d times, want 1", calls)
		}
		// The reader that reaches net/http is ServeContent's own
		// io.LimitedReader over the *os.File: the one net/http hands to
		// sendfile on HTTP/1.
		if lr, ok := src.(*io.LimitedReader); !ok {
			t.Errorf("ReadFrom got a %T, want *io.LimitedReader", src)
		} else if _, ok := lr.R.(*os.File); !ok {
			t.Errorf("ReadFrom got a LimitedReader over %T, want *os.File", lr.R)
		}
		checkSeen(t, seenBy, seen{Calls: 1, Code: 200, Status: 200, Written: int64(len(content))})
	})
}

func TestEarlyHintsPassThroughWithoutCommitting(t *testing.T) {
	type state struct {
		committed bool
		status    int
	}
	after103 := make(chan state, 1)
	h := func(w http.ResponseWriter, req *http.Request) {
		w.Header().Add("Link", "</style.css>; rel=preload; as=style")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Add("Link", "</app.js>; rel=preload; as=script")
		w.WriteHeader(http.StatusEarlyHints)
		var s state
		if ww, ok := w.(*writer.Writer); ok {
			s = state{ww.Committed(), ww.Status()}
		}
		after103 <- s
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, "created")
	}
	forEach(t, false, h, func(t *testing.T, r *rig) {
		var mu sync.Mutex
		var hints []textproto.MIMEHeader
		trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
			mu.Lock()
			defer mu.Unlock()
			if code == http.StatusEarlyHints {
				hints = append(hints, h)
			}
			return nil
		}}
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, r.url, nil)
		res, body := r.do(t, req)
		if s := <-after103; s != (state{}) {
			t.Errorf("after 103: committed %v, status %d; want uncommitted, 0", s.committed, s.status)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(hints) != 2 || len(hints[0]["Link"]) != 1 || len(hints[1]["Link"]) != 2 {
			t.Errorf("client saw 103 responses %v, want two, with 1 and 2 Link lines", hints)
		}
		if res.StatusCode != http.StatusCreated || body != r.st.want("created") {
			t.Errorf("final response %d %q, want 201 %q", res.StatusCode, body, r.st.want("created"))
		}
		checkSeen(t, r.wait(t), seen{Calls: 1, Code: 201, Status: 201, Written: 7})
	})
}

func TestStatusAndHeaderHook(t *testing.T) {
	tests := []struct {
		desc       string
		handler    http.HandlerFunc
		wantStatus int
		wantBody   string
		wantSeen   seen
	}{{
		desc:       "Write without WriteHeader sends 200",
		handler:    func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "hello") },
		wantStatus: 200, wantBody: "hello",
		wantSeen: seen{Calls: 1, Code: 200, Status: 200, Written: 5},
	}, {
		desc:       "empty handler leaves the status to net/http",
		handler:    func(http.ResponseWriter, *http.Request) {},
		wantStatus: 200,
		wantSeen:   seen{},
	}, {
		desc: "Flush without WriteHeader commits 200",
		handler: func(w http.ResponseWriter, _ *http.Request) {
			w.(http.Flusher).Flush()
		},
		wantStatus: 200,
		wantSeen:   seen{Calls: 1, Code: 200, Status: 200},
	}, {
		desc: "second WriteHeader is ignored",
		handler: func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusAccepted)
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, "accepted")
		},
		wantStatus: 202, wantBody: "accepted",
		wantSeen: seen{Calls: 1, Code: 202, Status: 202, Written: 8},
	}, {
		desc: "WriteHeader after Write is ignored",
		handler: func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, "x")
			w.WriteHeader(http.StatusInternalServerError)
		},
		wantStatus: 200, wantBody: "x",
		wantSeen: seen{Calls: 1, Code: 200, Status: 200, Written: 1},
	}, {
		desc: "ReadFrom without WriteHeader commits 200",
		handler: func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.Copy(w, onlyReader("from reader"))
		},
		wantStatus: 200, wantBody: "from reader",
		wantSeen: seen{Calls: 1, Code: 200, Status: 200, Written: 11},
	}, {
		desc: "Written counts Write and ReadFrom bytes",
		handler: func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, "not ")
			_, _ = io.Copy(w, io.LimitReader(strings.NewReader("found, sorry"), 5))
		},
		wantStatus: 404, wantBody: "not found",
		wantSeen: seen{Calls: 1, Code: 404, Status: 404, Written: 9},
	}}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			forEach(t, false, tt.handler, func(t *testing.T, r *rig) {
				res, body := r.get(t, http.MethodGet)
				if res.StatusCode != tt.wantStatus || body != r.st.want(tt.wantBody) {
					t.Errorf("got %d %q, want %d %q", res.StatusCode, body, tt.wantStatus, r.st.want(tt.wantBody))
				}
				checkSeen(t, r.wait(t), tt.wantSeen)
			})
		})
	}
}

func TestNoBodyForHEAD204And304(t *testing.T) {
	tests := []struct {
		method  string
		code    int
		wantErr error // from the handler's Write, as net/http returns it
	}{
		{http.MethodHead, http.StatusOK, nil},
		{http.MethodGet, http.StatusNoContent, http.ErrBodyNotAllowed},
		{http.MethodGet, http.StatusNotModified, http.ErrBodyNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.method+"/"+http.StatusText(tt.code), func(t *testing.T) {
			errs := make(chan [2]error, 1)
			h := func(w http.ResponseWriter, req *http.Request) {
				w.WriteHeader(tt.code)
				_, werr := io.WriteString(w, "must not be sent")
				_, rerr := io.Copy(w, onlyReader("nor this"))
				errs <- [2]error{werr, rerr}
			}
			forEach(t, false, h, func(t *testing.T, r *rig) {
				res, body := r.get(t, tt.method)
				if res.StatusCode != tt.code || body != "" {
					t.Errorf("got %d %q, want %d and no body", res.StatusCode, body, tt.code)
				}
				got := <-errs
				for i, err := range got {
					if !errors.Is(err, tt.wantErr) {
						t.Errorf("%s error %v, want %v", [2]string{"Write", "ReadFrom"}[i], err, tt.wantErr)
					}
				}
				r.wait(t)
			})
		})
	}
}

func TestHeldStatusIsSentByInterceptor(t *testing.T) {
	type state struct{ committed, sent bool }
	states := make(chan state, 1)
	h := func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, "held body")
		ww := w.(*writer.Writer)
		states <- state{ww.Committed(), ww.HeaderSent()}
	}
	for _, p := range protos {
		t.Run(p.name, func(t *testing.T) {
			ts := httptest.NewUnstartedServer(observe(nil)(holdMW(http.HandlerFunc(h))))
			ts.EnableHTTP2 = p.h2
			ts.StartTLS()
			defer ts.Close()
			c := ts.Client()
			c.Timeout = 10 * time.Second
			res, err := c.Get(ts.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)
			if s := <-states; s != (state{committed: true}) {
				t.Errorf("inside the handler: %+v, want committed and not sent", s)
			}
			if res.StatusCode != http.StatusCreated || string(body) != "held body" || res.Header.Get("X-Held-Length") != "9" {
				t.Errorf("got %d %q X-Held-Length=%q, want 201 %q 9", res.StatusCode, body, res.Header.Get("X-Held-Length"), "held body")
			}
		})
	}
}

// onlyReader returns a reader of s without WriteTo, so that io.Copy uses the
// writer's ReadFrom when it has one (HTTP/2's writer has none).
func onlyReader(s string) io.Reader {
	return struct{ io.Reader }{strings.NewReader(s)}
}
