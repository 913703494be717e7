package trace

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/jiec/httpmw/internal/writer"
)

// logWriter is the per-request state of the access log: the one
// internal/writer wrapper, which counts status and bytes, and what the
// record needs after next returns (kept here, not in logRequest's frame,
// which stays on the stack while next runs).
type logWriter struct {
	writer.Writer
	r     *http.Request
	v     *value
	start time.Time
	done  bool
}

// maxLoggedPath bounds the path written to the access log.
const maxLoggedPath = 1024

// logRequest runs next through a writer.Writer that counts status and bytes,
// then logs one record. The record is written even when next panics
// (with panic=true), and the panic continues.
func (h *handler) logRequest(w http.ResponseWriter, r *http.Request) {
	lw := h.m.startLog(w, r)
	defer h.m.endLog(lw)
	h.next.ServeHTTP(&lw.Writer, r)
	lw.done = true
}

// startLog returns the pooled logWriter of r, whose context carries the
// request's value (handler.begin).
//
//go:noinline
func (m *Middleware) startLog(w http.ResponseWriter, r *http.Request) *logWriter {
	v := fromContext(r.Context())
	lw, _ := m.pool.Get().(*logWriter)
	if lw == nil {
		lw = new(logWriter)
	}
	lw.Reset(w, nil)
	lw.r, lw.v, lw.start, lw.done = r, v, time.Now(), false
	return lw
}

func (m *Middleware) endLog(lw *logWriter) {
	lw.Done() // Vary registered by inner layers, if nothing was committed
	m.logRecord(lw.r, lw.v, lw, time.Since(lw.start), !lw.done)
	lw.Reset(nil, nil)
	lw.r, lw.v = nil, nil
	m.pool.Put(lw)
}

func (m *Middleware) logRecord(r *http.Request, v *value, lw *logWriter, d time.Duration, panicked bool) {
	status := lw.Status()
	if status == 0 && !panicked {
		status = http.StatusOK // net/http sends 200 when the handler returns
	}
	bytes := lw.Written()
	if r.Method == http.MethodHead {
		bytes = 0 // net/http discards a HEAD body that Write reported written
	}
	path := r.URL.EscapedPath() // no raw control bytes in logs
	if len(path) > maxLoggedPath {
		path = path[:maxLoggedPath]
	}
	attrs := make([]slog.Attr, 0, 8)
	attrs = append(attrs,
		slog.String("method", r.Method),
		slog.String("path", path),
		slog.Int("status", status),
		slog.Int64("bytes", bytes),
		slog.Duration("duration", d),
	)
	if m.c.logTraceAttrs {
		ta := m.c.keys.attrs(v, v.traceID(), v.spanID())
		attrs = append(attrs, ta[:]...)
	}
	if panicked {
		attrs = append(attrs, slog.Bool("panic", true))
	}
	m.c.accessLog.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
}
