package trace_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jiec/httpmw/trace"
)

var testTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// contextWithTrace returns a request context the middleware has seen.
func contextWithTrace(t *testing.T) context.Context {
	t.Helper()
	var ctx context.Context
	trace.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx = r.Context()
	})).ServeHTTP(httptest.NewRecorder(), req("X-Trace-Id", "abc"))
	return ctx
}

// countHandler counts the attributes of the records it handles.
type countHandler struct{ n *int }

func (h countHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h countHandler) Handle(_ context.Context, r slog.Record) error {
	*h.n = r.NumAttrs()
	r.AddAttrs(slog.Int("extra", 1)) // must not leak into other handlers
	return nil
}
func (h countHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h countHandler) WithGroup(string) slog.Handler      { return h }

// accessLog runs handler behind the middleware with an access log and
// returns the decoded record.
func accessLog(t *testing.T, wrap bool, handler http.HandlerFunc, r *http.Request) (map[string]any, *httptest.ResponseRecorder) {
	t.Helper()
	var buf bytes.Buffer
	var h slog.Handler = slog.NewJSONHandler(&buf, nil)
	if wrap {
		h = trace.NewLogHandler(h)
	}
	mw := newMW(t, trace.Config{AccessLog: slog.New(h)})
	rec := httptest.NewRecorder()
	mw(handler).ServeHTTP(rec, r)
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("access log %q: %v", buf.String(), err)
	}
	return m, rec
}

func TestAccessLogRecordsRequest(t *testing.T) {
	m, rec := accessLog(t, false, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "not here")
	}, httptest.NewRequest(http.MethodPost, "/a/b?q=1", nil))
	want := map[string]any{"msg": "request", "method": "POST", "path": "/a/b", "status": 404.0, "bytes": 8.0,
		trace.KeyTraceID: rec.Header().Get("X-Trace-Id")}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
	if d, ok := m["duration"].(float64); !ok || d < 0 {
		t.Errorf("duration = %v", m["duration"])
	}
	if s, _ := m[trace.KeySpanID].(string); len(s) != 16 {
		t.Errorf("span_id = %v", m[trace.KeySpanID])
	}
}

func TestAccessLogDefaultStatusIs200(t *testing.T) {
	m, _ := accessLog(t, false, func(w http.ResponseWriter, r *http.Request) {}, req())
	if m["status"] != 200.0 || m["bytes"] != 0.0 {
		t.Errorf("status %v bytes %v", m["status"], m["bytes"])
	}
}

func TestAccessLogWithLogHandlerHasTraceOnce(t *testing.T) {
	var buf bytes.Buffer
	mw := newMW(t, trace.Config{AccessLog: slog.New(trace.NewLogHandler(slog.NewTextHandler(&buf, nil)))})
	mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})).ServeHTTP(httptest.NewRecorder(), req("X-Trace-Id", "abc"))
	if n := strings.Count(buf.String(), "trace_id="); n != 1 || strings.Count(buf.String(), "request_id=abc") != 1 {
		t.Errorf("trace_id appears %d times: %s", n, buf.String())
	}
}

func TestAccessLogEscapesAndBoundsPath(t *testing.T) {
	r := req()
	r.URL.Path = "/a\nb/" + strings.Repeat("x", 2000)
	r.URL.RawPath = ""
	m, _ := accessLog(t, false, func(w http.ResponseWriter, r *http.Request) {}, r)
	p, _ := m["path"].(string)
	if strings.ContainsAny(p, "\n\r") || !strings.HasPrefix(p, "/a%0Ab/") || len(p) > 1024 {
		t.Errorf("path %q (%d bytes)", p[:min(len(p), 20)], len(p))
	}
}

func TestAccessLogKeepsFlusher(t *testing.T) {
	m, rec := accessLog(t, true, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "data: 1\n\n")
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("Flush through the access log: %v", err)
		}
		w.(http.Flusher).Flush()
	}, req())
	if !rec.Flushed || m["bytes"] != 9.0 {
		t.Errorf("flushed %v, bytes %v", rec.Flushed, m["bytes"])
	}
}

func TestAccessLogOnPanic(t *testing.T) {
	var buf bytes.Buffer
	mw := newMW(t, trace.Config{AccessLog: slog.New(slog.NewJSONHandler(&buf, nil))})
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic(http.ErrAbortHandler) }))
	func() {
		defer func() {
			if p := recover(); p != http.ErrAbortHandler {
				t.Errorf("recovered %v, want the handler's panic", p)
			}
		}()
		h.ServeHTTP(httptest.NewRecorder(), req())
	}()
	if !strings.Contains(buf.String(), `"panic":true`) || !strings.Contains(buf.String(), `"status":0`) {
		t.Errorf("log: %s", buf.String())
	}
}

func TestAccessLogStackedLogsTwice(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	outer := newMW(t, trace.Config{AccessLog: logger})
	inner := newMW(t, trace.Config{AccessLog: logger})
	outer(inner(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))).ServeHTTP(httptest.NewRecorder(), req("X-Trace-Id", "abc"))
	if n := strings.Count(buf.String(), "request_id=abc"); n != 2 {
		t.Errorf("stacked: %d records with the same id: %s", n, buf.String())
	}
}

// TestAccessLogHeadSendsNoBytes: net/http discards the body of a HEAD
// response (RFC 9110 §9.3.2) though Write reports it written; the log says
// what was sent.
func TestAccessLogHeadSendsNoBytes(t *testing.T) {
	m, _ := accessLog(t, false, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello")
	}, httptest.NewRequest(http.MethodHead, "/", nil))
	if m["bytes"] != 0.0 || m["method"] != "HEAD" {
		t.Errorf("HEAD: method %v, bytes %v; want 0 bytes", m["method"], m["bytes"])
	}
}
