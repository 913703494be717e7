package writer_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jiec/httpmw/internal/writer"
)

// syncBuffer is a server ErrorLog the tests read after the handler returned.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestLegacyHijackerAssertion is what gorilla/websocket does: w.(http.Hijacker)
// succeeds through every stack on HTTP/1 (the connection is taken over, the
// observers see 101 and nothing is written after), and on HTTP/2 the
// assertion holds but Hijack returns the connection's ErrNotSupported.
func TestLegacyHijackerAssertion(t *testing.T) {
	type result struct {
		ok           bool  // the assertion held
		err          error // Hijack
		write, flush error // after the hijack
	}
	results := make(chan result, 1)
	h := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		hj, ok := w.(http.Hijacker)
		if !ok {
			results <- result{}
			http.Error(w, "no Hijacker", http.StatusTeapot)
			return
		}
		conn, brw, err := hj.Hijack()
		if err != nil {
			results <- result{ok: true, err: err}
			http.Error(w, "no hijack", http.StatusTeapot)
			return
		}
		defer conn.Close()
		_, _ = brw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\nhijacked")
		_ = brw.Flush()
		_, werr := w.Write([]byte("late"))
		var ferr error = http.ErrHijacked
		if _, ours := w.(*writer.Writer); ours {
			// (net/http's own FlushError panics after a hijack.)
			ferr = http.NewResponseController(w).Flush()
			w.WriteHeader(http.StatusInternalServerError)
		}
		results <- result{ok: true, write: werr, flush: ferr}
	}
	forEach(t, false, h, func(t *testing.T, r *rig) {
		res, body := r.get(t, http.MethodGet)
		got := <-results
		seenAll := r.wait(t)
		switch {
		case r.h2 && r.st.layers == 0:
			if got.ok {
				t.Errorf("bare HTTP/2 writer is a Hijacker")
			}
		case r.h2:
			if !got.ok || !errors.Is(got.err, http.ErrNotSupported) || res.StatusCode != http.StatusTeapot {
				t.Errorf("HTTP/2: assertion %v, Hijack %v, status %d; want a Hijacker returning ErrNotSupported", got.ok, got.err, res.StatusCode)
			}
			checkSeen(t, seenAll, seen{Calls: 1, Code: http.StatusTeapot, Status: http.StatusTeapot, Written: int64(len("no hijack\n"))})
		default:
			if !got.ok || got.err != nil || body != "hijacked" {
				t.Errorf("HTTP/1: assertion %v, Hijack %v, body %q; want %q", got.ok, got.err, body, "hijacked")
			}
			if !errors.Is(got.write, http.ErrHijacked) || got.flush == nil {
				t.Errorf("after the hijack: Write %v, Flush %v; want ErrHijacked and an error", got.write, got.flush)
			}
			checkSeen(t, seenAll, seen{Status: http.StatusSwitchingProtocols})
		}
	})
}

// hijackIC records the hook.
type hijackIC struct {
	writer.Writer
	hijacked int
}

func (h *hijackIC) Header(int) bool { return false } // holds every status
func (h *hijackIC) OnHijack()       { h.hijacked++ }

// A 101 written before the hijack (coder/websocket) reaches the connection
// even when the interceptor holds it, as net/http flushes a written header
// before a hijack; the HijackInterceptor hook runs once; nothing is logged
// by the server about writes on a hijacked connection.
func TestHijackSendsHeldStatusAndRunsHook(t *testing.T) {
	var errLog syncBuffer
	ic := &hijackIC{}
	done := make(chan struct{})
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
		defer close(done)
		ic.Reset(rw, ic)
		w := &ic.Writer
		w.Header().Set("Upgrade", "echo")
		w.Header().Set("Connection", "Upgrade")
		w.WriteHeader(http.StatusSwitchingProtocols)
		conn, brw, err := w.Hijack()
		if err != nil {
			t.Errorf("Hijack: %v", err)
			return
		}
		defer conn.Close()
		_, _ = brw.WriteString("raw")
		_ = brw.Flush()
		ic.SendHeader()
		_, _ = ic.WriteDown([]byte("never"))
		if _, _, err := w.Hijack(); !errors.Is(err, http.ErrHijacked) {
			t.Errorf("second Hijack: %v, want ErrHijacked", err)
		}
	}))
	ts.Config.ErrorLog = log.New(&errLog, "", 0)
	ts.Start()
	defer ts.Close()
	conn, err := (&netDialer{}).dial(ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	_, _ = io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(br) // what follows the 101 on the connection
	<-done
	if res.StatusCode != http.StatusSwitchingProtocols || res.Header.Get("Upgrade") != "echo" || string(raw) != "raw" {
		t.Errorf("got %d Upgrade=%q then %q, want 101 echo then %q", res.StatusCode, res.Header.Get("Upgrade"), raw, "raw")
	}
	if ic.hijacked != 1 || ic.Status() != http.StatusSwitchingProtocols || !ic.Hijacked() {
		t.Errorf("hook ran %d times, Status %d, Hijacked %v; want once, 101, true", ic.hijacked, ic.Status(), ic.Hijacked())
	}
	if s := errLog.String(); strings.Contains(s, "hijacked") {
		t.Errorf("server logged %q", s)
	}
}
