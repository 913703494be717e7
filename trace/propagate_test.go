package trace_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jiec/httpmw/trace"
)

// TestTransportStripsEveryAcceptedIDHeaderAProxyCopied: every accepted id
// header (Header and all of AlsoAccept) that a proxy copied from the client
// is removed or replaced, not only the main one (issue 12).
func TestTransportStripsEveryAcceptedIDHeaderAProxyCopied(t *testing.T) {
	untrusted := func(*http.Request) bool { return false }
	cases := []struct {
		desc string
		cfg  trace.Config
		hdr  []string
		want map[string]string // header -> value downstream ("" = absent, "ID" = the request's id)
	}{
		{"untrusted client: all forged ids go", trace.Config{TrustIncoming: untrusted, AlsoAccept: []string{"X-Request-Id", "X-Correlation-Id"}},
			[]string{"X-Trace-Id", "forged-1", "X-Request-Id", "forged-2", "X-Correlation-Id", "forged-3"},
			map[string]string{"X-Trace-Id": "ID", "X-Request-Id": "", "X-Correlation-Id": ""}},
		{"untrusted client, default AlsoAccept", trace.Config{TrustIncoming: untrusted},
			[]string{"X-Request-Id", "forged"},
			map[string]string{"X-Trace-Id": "ID", "X-Request-Id": ""}},
		{"trusted id from AlsoAccept stays", trace.Config{AlsoAccept: []string{"X-Request-Id", "X-Correlation-Id"}},
			[]string{"X-Request-Id", "req-1", "X-Correlation-Id", "bad id"},
			map[string]string{"X-Trace-Id": "ID", "X-Request-Id": "req-1", "X-Correlation-Id": ""}},
		{"trusted main id: other accepted ids go", trace.Config{},
			[]string{"X-Trace-Id", "main", "X-Request-Id", "other"},
			map[string]string{"X-Trace-Id": "main", "X-Request-Id": ""}},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			rt := &captureRT{}
			target, _ := url.Parse("http://downstream.test/")
			proxy := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(target) }, Transport: trace.Transport(rt)}
			var id string
			newMW(t, c.cfg)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				id = trace.ID(r.Context())
				proxy.ServeHTTP(w, r)
			})).ServeHTTP(httptest.NewRecorder(), req(c.hdr...))
			if len(rt.got) != 1 {
				t.Fatalf("%d outgoing requests", len(rt.got))
			}
			for name, want := range c.want {
				if want == "ID" {
					want = id
				}
				if got := strings.Join(rt.got[0].Header.Values(name), ","); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
		})
	}
}

// TestTransportKeepsCallerChosenAlsoAcceptHeader: a header the caller set
// (not a copy of the incoming line) is the caller's choice.
func TestTransportKeepsCallerChosenAlsoAcceptHeader(t *testing.T) {
	_, _, _, got := outgoing(t, req("X-Request-Id", "in"), 1, func(r *http.Request) { r.Header.Set("X-Request-Id", "chosen") })
	if v := got[0].Header.Get("X-Request-Id"); v != "chosen" {
		t.Errorf("X-Request-Id = %q, want chosen", v)
	}
}

// TestTransportPropagateTo: destinations PropagateTo refuses get no trace
// headers at all, copied or added; redirects are checked again.
func TestTransportPropagateTo(t *testing.T) {
	external := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, name := range []string{"X-Trace-Id", "X-Request-Id", "Traceparent", "Tracestate"} {
			if v := r.Header.Values(name); len(v) > 0 {
				t.Errorf("external host got %s: %q", name, v)
			}
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer external.Close()
	var internalGot http.Header
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redirect" {
			internalGot = r.Header.Clone()
			http.Redirect(w, r, external.URL+"/landing", http.StatusFound)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer internal.Close()
	// Both servers listen on 127.0.0.1; tell them apart by name.
	internalURL := strings.Replace(internal.URL, "127.0.0.1", "localhost", 1)
	client := &http.Client{Transport: trace.Transport(nil)}
	defer client.CloseIdleConnections()
	mw := newMW(t, trace.Config{PropagateTo: trace.HostAllowlist("LOCALHOST")})

	target, _ := url.Parse(external.URL)
	proxy := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(target) }, Transport: trace.Transport(nil)}
	mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, internalURL+"/redirect", nil)
		resp, err := client.Do(out)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Request.URL.Host != strings.TrimPrefix(external.URL, "http://") {
			t.Errorf("redirect not followed: ended at %s", resp.Request.URL)
		}
		proxy.ServeHTTP(httptest.NewRecorder(), r) // copies the client's lines
	})).ServeHTTP(httptest.NewRecorder(), req("X-Request-Id", "abc", "Traceparent", tp, "Tracestate", "foo=1"))
	if internalGot.Get("Traceparent") == "" || internalGot.Get("X-Trace-Id") != "abc" || internalGot.Get("Tracestate") != "foo=1" {
		t.Errorf("allowed host got %v", internalGot)
	}
}

func TestHostAllowlist(t *testing.T) {
	allow := trace.HostAllowlist("api.example.com", ".svc.cluster.local")
	cases := []struct {
		url  string
		want bool
	}{
		{"http://api.example.com/x", true},
		{"https://API.Example.com:8443/", true},
		{"http://other.example.com/", false},
		{"http://orders.svc.cluster.local/", true},
		{"http://svc.cluster.local/", false},
		{"http://evilsvc.cluster.local/", false},
		{"http://api.example.com.evil.test/", false},
	}
	for _, c := range cases {
		u, _ := url.Parse(c.url)
		if got := allow(u); got != c.want {
			t.Errorf("%s: %v, want %v", c.url, got, c.want)
		}
	}
}

// TestContextDoesNotKeepRequestAlive: a context kept after the handler
// returned (a goroutine, a log record) must not keep the request alive.
func TestContextDoesNotKeepRequestAlive(t *testing.T) {
	collected := make(chan struct{})
	var ctx context.Context
	trace.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx = r.Context()
		runtime.AddCleanup(r, func(ch chan struct{}) { close(ch) }, collected)
	})).ServeHTTP(httptest.NewRecorder(), req())
	runtime.GC()
	select {
	case <-collected:
	case <-time.After(10 * time.Second): // a bound for failure, not a timing assumption
		t.Fatal("the request passed to the handler is still reachable from its context")
	}
	if trace.ID(ctx) == "" {
		t.Error("context lost the id")
	}
}

func TestInjectExtractRoundTrip(t *testing.T) {
	var sc trace.SpanContext
	msg := trace.MapCarrier{}
	trace.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sc, _ = trace.FromContext(r.Context())
		trace.Inject(r.Context(), msg)
	})).ServeHTTP(httptest.NewRecorder(), req("X-Request-Id", "job-7", "Traceparent", tp, "Tracestate", "foo=1"))
	if msg["x-trace-id"] != "job-7" || msg["tracestate"] != "foo=1" {
		t.Errorf("carrier %v", msg)
	}
	got, err := trace.ParseTraceparent([]string{msg["traceparent"]})
	if err != nil || got.TraceID.String() != tid || got.ParentID == sc.SpanID || got.ParentID.String() == pid {
		t.Errorf("traceparent %q (%v): want a child of the hop's span", msg["traceparent"], err)
	}

	ctx := trace.Extract(context.Background(), msg)
	out, ok := trace.FromContext(ctx)
	if !ok || trace.ID(ctx) != "job-7" || out.TraceID.String() != tid || out.ParentID != got.ParentID || out.TraceState != "foo=1" {
		t.Errorf("extracted id %q, %+v", trace.ID(ctx), out)
	}
	// The consumer's context works with the middleware's other helpers.
	again := trace.MapCarrier{}
	trace.Inject(ctx, again)
	if again["x-trace-id"] != "job-7" || !strings.Contains(again["traceparent"], tid) {
		t.Errorf("re-injected %v", again)
	}
}

func TestExtractValidates(t *testing.T) {
	cases := []struct {
		desc      string
		c         trace.Carrier
		continued bool
	}{
		{"nil carrier", nil, false},
		{"empty", trace.MapCarrier{}, false},
		{"canonical keys", trace.MapCarrier{"Traceparent": tp}, true},
		{"invalid traceparent", trace.MapCarrier{"traceparent": "00-" + tid + "-" + pid + "-0."}, false},
		{"invalid id", trace.MapCarrier{"x-trace-id": "a b", "traceparent": tp}, true},
		{"oversized tracestate", trace.MapCarrier{"traceparent": tp, "tracestate": "a=" + strings.Repeat("x", 9000)}, true},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			ctx := trace.Extract(context.Background(), c.c)
			sc, ok := trace.FromContext(ctx)
			if !ok || !trace.ValidID(trace.ID(ctx)) || (sc.TraceID.String() == tid) != c.continued || sc.TraceState != "" {
				t.Errorf("id %q, %+v", trace.ID(ctx), sc)
			}
		})
	}
}

// TestMiddlewareIgnoresExtractedContext: a context from Extract (e.g. an
// OpenTelemetry propagator ran before the middleware) is not an outer
// middleware: the request gets its own id and headers.
func TestMiddlewareIgnoresExtractedContext(t *testing.T) {
	ctx := trace.Extract(context.Background(), trace.MapCarrier{"x-trace-id": "from-carrier"})
	s, rec := run(t, trace.Handler, req("X-Request-Id", "from-request").WithContext(ctx))
	if s.id != "from-request" || rec.Header().Get("X-Request-Id") != "from-request" {
		t.Errorf("id %q, headers %v", s.id, rec.Header())
	}
}

// fakeSpanKey carries a span context the way a tracer does.
type fakeSpanKey struct{}

func fakeSpanFrom(ctx context.Context) (trace.SpanContext, bool) {
	sc, ok := ctx.Value(fakeSpanKey{}).(trace.SpanContext)
	return sc, ok
}

// TestSpanContextFromIsUsed: a tracer's span current at request start is the
// request's trace; a child span current when logging or calling out is the
// one logged and the parent of the outgoing call.
func TestSpanContextFromIsUsed(t *testing.T) {
	server := trace.SpanContext{Flags: trace.FlagSampled}
	copy(server.TraceID[:], "0123456789abcdef")
	copy(server.SpanID[:], "serverid")
	child := server
	copy(child.SpanID[:], "childspn")

	var buf strings.Builder
	m, err := trace.New(trace.Config{SpanContextFrom: fakeSpanFrom, ServerTiming: true})
	if err != nil {
		t.Fatal(err)
	}
	m2, _ := trace.New(trace.Config{SpanContextFrom: fakeSpanFrom, AccessLog: slog.New(slog.NewTextHandler(&buf, nil))})
	logger := slog.New(trace.NewLogHandler(slog.NewTextHandler(&buf, nil)))
	rt := &captureRT{}
	client := &http.Client{Transport: trace.Transport(rt)}
	var s trace.SpanContext
	var id string
	h := m.Handler(m2.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ = trace.FromContext(r.Context())
		id = trace.ID(r.Context())
		ctx := context.WithValue(r.Context(), fakeSpanKey{}, child)
		logger.InfoContext(ctx, "in child")
		out, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://downstream.test/", nil)
		resp, err := client.Do(out)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	})))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req("Traceparent", tp).WithContext(context.WithValue(context.Background(), fakeSpanKey{}, server)))

	if s.TraceID != server.TraceID || s.SpanID != server.SpanID || id != server.TraceID.String() {
		t.Errorf("request span context %+v, id %q: want the tracer's span", s, id)
	}
	if got := rec.Header().Get("X-Trace-Id"); got != server.TraceID.String() {
		t.Errorf("X-Trace-Id %q", got)
	}
	if got := rec.Header().Get("Server-Timing"); got != "trace;desc="+server.Traceparent() {
		t.Errorf("Server-Timing %q", got)
	}
	if want := "trace_id=" + server.TraceID.String() + " span_id=" + child.SpanID.String(); !strings.Contains(buf.String(), want) {
		t.Errorf("log %q: want %q", buf.String(), want)
	}
	if want := "span_id=" + server.SpanID.String(); !strings.Contains(buf.String(), want) {
		t.Errorf("access log %q: want %q", buf.String(), want)
	}
	if got := rt.got[0].Header.Get("Traceparent"); got != child.Traceparent() {
		t.Errorf("outgoing traceparent %q, want the child span %q", got, child.Traceparent())
	}
}

// TestSpanContextFromRemoteParent: a remote parent (SpanID zero) is
// continued like a traceparent, unless the caller is not trusted.
func TestSpanContextFromRemoteParent(t *testing.T) {
	remote := trace.SpanContext{Flags: trace.FlagRandom}
	copy(remote.TraceID[:], "0123456789abcdef")
	copy(remote.ParentID[:], "parentid")
	ctx := context.WithValue(context.Background(), fakeSpanKey{}, remote)
	got, _ := run(t, newMW(t, trace.Config{SpanContextFrom: fakeSpanFrom}), req().WithContext(ctx))
	s := got.sc
	if s.TraceID != remote.TraceID || s.ParentID != remote.ParentID || s.SpanID.IsZero() || s.SpanID == remote.ParentID || s.Flags != trace.FlagRandom {
		t.Errorf("span context %+v: want a child of the remote parent", s)
	}
	_, rec := run(t, newMW(t, trace.Config{SpanContextFrom: fakeSpanFrom, PassThrough: true, ServerTiming: true}), req().WithContext(ctx))
	if st := rec.Header().Get("Server-Timing"); st != "" {
		t.Errorf("PassThrough of a remote parent: Server-Timing %q names the caller's span", st)
	}
	got, _ = run(t, newMW(t, trace.Config{SpanContextFrom: fakeSpanFrom, TrustIncoming: func(*http.Request) bool { return false }}), req().WithContext(ctx))
	if got.sc.TraceID == remote.TraceID {
		t.Error("untrusted remote parent continued")
	}
}

func TestLogKeysConfigurable(t *testing.T) {
	var buf strings.Builder
	lh, err := trace.NewLogHandler(slog.NewTextHandler(&buf, nil)).WithKeys(trace.LogKeys{TraceID: "trace.id", RequestID: "req"})
	if err != nil {
		t.Fatal(err)
	}
	slog.New(lh).InfoContext(contextWithTrace(t), "m")
	for _, want := range []string{"trace.id=", "span_id=", "req=abc"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("%q lacks %q", buf.String(), want)
		}
	}
	if _, err := lh.WithKeys(trace.LogKeys{SpanID: "req", RequestID: "req"}); err == nil {
		t.Error("WithKeys accepted equal keys")
	}
	buf.Reset()
	m, _ := trace.New(trace.Config{LogKeys: trace.LogKeys{SpanID: "span.id"}, AccessLog: slog.New(slog.NewTextHandler(&buf, nil))})
	m.Handler(noop).ServeHTTP(httptest.NewRecorder(), req())
	if !strings.Contains(buf.String(), "span.id=") || !strings.Contains(buf.String(), "trace_id=") {
		t.Errorf("access log %q", buf.String())
	}
}

func TestIDHeaders(t *testing.T) {
	m, _ := trace.New(trace.Config{Header: "x-correlation-id", AlsoAccept: []string{"x-request-id", "x-amzn-trace-id"}})
	if got := strings.Join(m.IDHeaders(), ","); got != "X-Correlation-Id,X-Request-Id,X-Amzn-Trace-Id" {
		t.Errorf("IDHeaders = %s", got)
	}
}
