package traceotel_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/jiec/httpmw/internal/problem"
	"github.com/jiec/httpmw/otel/traceotel"
	"github.com/jiec/httpmw/trace"
)

const (
	tid = "4bf92f3577b34da6a3ce929d0e0e4736"
	tp  = "00-" + tid + "-00f067aa0ba902b7-01"
)

// newProvider returns an SDK TracerProvider (default sampler,
// ParentBased(AlwaysSample)) whose ended spans the recorder keeps.
func newProvider(t *testing.T) (*sdktrace.TracerProvider, *tracetest.SpanRecorder) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp, rec
}

// observed is what one request produced, everywhere a trace-id shows.
type observed struct {
	header     string // X-Trace-Id response header
	problemID  string // problem+json trace_id
	logTraceID string // trace_id of a record logged in the handler
	logSpanID  string
	downstream string // trace-id of the outgoing traceparent
	downParent string // its parent-id
}

// app logs, calls downstream through trace.Transport and answers with a
// problem+json error.
func app(t *testing.T, logger *slog.Logger, downstream string) http.Handler {
	client := &http.Client{Transport: trace.Transport(nil)}
	t.Cleanup(client.CloseIdleConnections)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		logger.InfoContext(r.Context(), "handling")
		out, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, downstream, nil)
		resp, err := client.Do(out)
		if err != nil {
			t.Error(err)
			return
		}
		resp.Body.Close()
		problem.Write(w, r, problem.Details{Status: http.StatusConflict})
	})
}

// serve runs h on a request with the given headers and collects what it
// produced.
func serve(t *testing.T, build func(logger *slog.Logger, downstream string) http.Handler, headers ...string) observed {
	t.Helper()
	got := make(chan string, 1)
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get("Traceparent")
	}))
	defer down.Close()
	var logs bytes.Buffer
	logger := slog.New(trace.NewLogHandler(slog.NewJSONHandler(&logs, nil)))
	h := build(logger, down.URL)
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	var o observed
	o.header = rec.Header().Get("X-Trace-Id")
	var doc struct {
		TraceID string `json:"trace_id"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatalf("problem+json %q: %v", rec.Body.String(), err)
	}
	o.problemID = doc.TraceID
	var line struct {
		TraceID string `json:"trace_id"`
		SpanID  string `json:"span_id"`
	}
	if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
		t.Fatalf("log %q: %v", logs.String(), err)
	}
	o.logTraceID, o.logSpanID = line.TraceID, line.SpanID
	if d := <-got; len(d) == 55 {
		o.downstream, o.downParent = d[3:35], d[36:52]
	} else {
		t.Fatalf("downstream traceparent %q", d)
	}
	return o
}

// serverSpan returns the one ended server span.
func serverSpan(t *testing.T, rec *tracetest.SpanRecorder) sdktrace.ReadOnlySpan {
	t.Helper()
	spans := rec.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans recorded, want 1", len(spans))
	}
	return spans[0]
}

func checkOneTrace(t *testing.T, o observed, span sdktrace.ReadOnlySpan, wantParent string) {
	t.Helper()
	want := span.SpanContext().TraceID().String()
	for name, got := range map[string]string{
		"X-Trace-Id": o.header, "problem+json trace_id": o.problemID, "log trace_id": o.logTraceID, "downstream traceparent": o.downstream,
	} {
		if got != want {
			t.Errorf("%s = %s, want the recorded trace-id %s", name, got, want)
		}
	}
	if o.logSpanID != span.SpanContext().SpanID().String() {
		t.Errorf("log span_id %s, want the server span %s", o.logSpanID, span.SpanContext().SpanID())
	}
	if o.downParent != span.SpanContext().SpanID().String() {
		t.Errorf("downstream parent-id %s, want the recorded server span %s", o.downParent, span.SpanContext().SpanID())
	}
	if wantParent != "" && span.Parent().SpanID().String() != wantParent {
		t.Errorf("server span's parent %s, want %s", span.Parent().SpanID(), wantParent)
	}
}

// TestOtelhttpOutsideTrace: otelhttp starts the server span, trace uses it.
func TestOtelhttpOutsideTrace(t *testing.T) {
	for _, c := range []struct {
		desc    string
		headers []string
		parent  string
	}{
		{"new trace", nil, ""},
		{"continued trace", []string{"Traceparent", tp}, "00f067aa0ba902b7"},
	} {
		t.Run(c.desc, func(t *testing.T) {
			provider, rec := newProvider(t)
			o := serve(t, func(logger *slog.Logger, downstream string) http.Handler {
				tr, err := trace.New(trace.Config{SpanContextFrom: traceotel.SpanContextFrom})
				if err != nil {
					t.Fatal(err)
				}
				return otelhttp.NewHandler(tr.Handler(app(t, logger, downstream)), "server",
					otelhttp.WithTracerProvider(provider), otelhttp.WithPropagators(propagation.TraceContext{}))
			}, c.headers...)
			span := serverSpan(t, rec)
			checkOneTrace(t, o, span, c.parent)
			if c.parent != "" && o.header != tid {
				t.Errorf("X-Trace-Id %s, want the caller's trace %s", o.header, tid)
			}
		})
	}
}

// TestOtelhttpInsideTrace: trace runs first; Propagator hands its trace to
// otelhttp, whose server span continues it.
func TestOtelhttpInsideTrace(t *testing.T) {
	for _, c := range []struct {
		desc    string
		headers []string
		parent  string
	}{
		{"new trace", nil, ""},
		{"continued trace", []string{"Traceparent", tp}, "00f067aa0ba902b7"},
		{"client request id", []string{"X-Request-Id", "abc"}, ""},
	} {
		t.Run(c.desc, func(t *testing.T) {
			provider, rec := newProvider(t)
			o := serve(t, func(logger *slog.Logger, downstream string) http.Handler {
				tr, err := trace.New(trace.Config{SpanContextFrom: traceotel.SpanContextFrom})
				if err != nil {
					t.Fatal(err)
				}
				prop := propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, traceotel.Propagator(tr))
				return tr.Handler(otelhttp.NewHandler(app(t, logger, downstream), "server",
					otelhttp.WithTracerProvider(provider), otelhttp.WithPropagators(prop)))
			}, c.headers...)
			span := serverSpan(t, rec)
			if c.desc == "client request id" {
				o.header = o.problemID // X-Trace-Id is the client's id, abc
			}
			checkOneTrace(t, o, span, c.parent)
		})
	}
}

// TestDownstreamDefaultSamplerRecordsOurTraces: a service using only trace
// (no OpenTelemetry) starts traces that a downstream otelhttp service with
// the SDK's default sampler records: all 10 of 10, under the trace-id the
// client saw in X-Trace-Id. With SampleNone (the old default) it records 0.
func TestDownstreamDefaultSamplerRecordsOurTraces(t *testing.T) {
	for _, c := range []struct {
		cfg  trace.Config
		want int
	}{
		{trace.Config{}, 10},
		{trace.Config{Sampling: trace.SampleNone}, 0},
	} {
		provider, rec := newProvider(t)
		down := httptest.NewServer(otelhttp.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), "downstream",
			otelhttp.WithTracerProvider(provider), otelhttp.WithPropagators(propagation.TraceContext{})))
		client := &http.Client{Transport: trace.Transport(nil)}
		tr, _ := trace.New(c.cfg)
		h := tr.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			out, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, down.URL, nil)
			resp, err := client.Do(out)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
		}))
		ids := map[string]bool{}
		for range 10 {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
			ids[w.Header().Get("X-Trace-Id")] = true
		}
		client.CloseIdleConnections()
		down.Close()
		spans := rec.Ended()
		if len(spans) != c.want {
			t.Errorf("Sampling %v: downstream recorded %d of 10 requests, want %d", c.cfg.Sampling, len(spans), c.want)
		}
		for _, s := range spans {
			if !ids[s.SpanContext().TraceID().String()] {
				t.Errorf("recorded trace-id %s is not an X-Trace-Id we sent", s.SpanContext().TraceID())
			}
		}
	}
}

// TestRatioSamplerOverGeneratedIDs: OpenTelemetry's TraceIDRatioBased
// sampler (bytes 8-15 of the trace-id) samples the requested fraction of the
// trace-ids trace generates, within 2 percentage points over 20,000 ids.
func TestRatioSamplerOverGeneratedIDs(t *testing.T) {
	const n = 20000
	ids := make([]oteltrace.TraceID, 0, n)
	h := trace.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sc, _ := trace.FromContext(r.Context())
		ids = append(ids, oteltrace.TraceID(sc.TraceID))
	}))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	for range n {
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	for _, ratio := range []float64{0.1, 0.5, 0.9} {
		s := sdktrace.TraceIDRatioBased(ratio)
		sampled := 0
		for _, id := range ids {
			if s.ShouldSample(sdktrace.SamplingParameters{TraceID: id}).Decision == sdktrace.RecordAndSample {
				sampled++
			}
		}
		if got := float64(sampled) / n; got < ratio-0.02 || got > ratio+0.02 {
			t.Errorf("ratio %v: sampled %.4f of %d generated trace-ids", ratio, got, n)
		}
	}
}

// TestOutgoingTraceparentParsesInOpenTelemetry: OTel's W3C propagator reads
// what Transport sends: same trace-id, the random and sampled flags.
func TestOutgoingTraceparentParsesInOpenTelemetry(t *testing.T) {
	var hdr http.Header
	rt := roundTrip(func(r *http.Request) (*http.Response, error) {
		hdr = r.Header
		return &http.Response{StatusCode: 204, Body: http.NoBody, Request: r}, nil
	})
	var want trace.SpanContext
	trace.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		want, _ = trace.FromContext(r.Context())
		out, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, "http://downstream.test/", nil)
		resp, _ := (&http.Client{Transport: trace.Transport(rt)}).Do(out)
		resp.Body.Close()
	})).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	osc := oteltrace.SpanContextFromContext(propagation.TraceContext{}.Extract(context.Background(), propagation.HeaderCarrier(hdr)))
	if !osc.IsValid() || osc.TraceID() != oteltrace.TraceID(want.TraceID) || !osc.IsSampled() || !osc.TraceFlags().IsRandom() {
		t.Errorf("OpenTelemetry read %v from %v", osc, hdr)
	}
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestPropagator(t *testing.T) {
	tr, _ := trace.New(trace.Config{AlsoAccept: []string{"X-Request-Id", "X-Correlation-Id"}})
	p := traceotel.Propagator(tr)
	if got := strings.Join(p.Fields(), ","); got != "x-trace-id,x-request-id,x-correlation-id" {
		t.Errorf("Fields = %s", got)
	}
	// Extract from a message carrier: the id lands in the context.
	ctx := p.Extract(context.Background(), propagation.MapCarrier{"x-correlation-id": "job-9", "traceparent": tp})
	if trace.ID(ctx) != "job-9" {
		t.Errorf("extracted id %q", trace.ID(ctx))
	}
	out := propagation.MapCarrier{}
	p.Inject(ctx, out)
	if out["x-trace-id"] != "job-9" || len(out) != 1 {
		t.Errorf("injected %v", out)
	}
	// Without a trace context, the current OTel span's trace-id is the id.
	provider, _ := newProvider(t)
	sctx, span := provider.Tracer("t").Start(context.Background(), "op")
	defer span.End()
	out = propagation.MapCarrier{}
	p.Inject(sctx, out)
	if out["x-trace-id"] != span.SpanContext().TraceID().String() {
		t.Errorf("injected %v, want the span's trace-id", out)
	}
	out = propagation.MapCarrier{}
	traceotel.Propagator(nil).Inject(context.Background(), out)
	if len(out) != 0 {
		t.Errorf("nothing to inject, got %v", out)
	}
}

func TestSpanContextFrom(t *testing.T) {
	if _, ok := traceotel.SpanContextFrom(context.Background()); ok {
		t.Error("ok without a span")
	}
	provider, _ := newProvider(t)
	ctx, span := provider.Tracer("t").Start(context.Background(), "op")
	defer span.End()
	sc, ok := traceotel.SpanContextFrom(ctx)
	if !ok || sc.SpanID != trace.SpanID(span.SpanContext().SpanID()) || !sc.ParentID.IsZero() || !sc.Flags.Sampled() {
		t.Errorf("local span: %+v, %v", sc, ok)
	}
	remote := propagation.TraceContext{}.Extract(context.Background(), propagation.MapCarrier{"traceparent": tp, "tracestate": "foo=1"})
	sc, ok = traceotel.SpanContextFrom(remote)
	if !ok || !sc.SpanID.IsZero() || sc.ParentID.String() != "00f067aa0ba902b7" || sc.TraceID.String() != tid || sc.TraceState != "foo=1" {
		t.Errorf("remote: %+v, %v", sc, ok)
	}
}
