package trace_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/jiec/httpmw/trace"
)

// The zero-Config middleware around a net/http ServeMux.
func Example() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "handling", trace.ID(r.Context()))
	})
	handler := trace.Handler(mux) // http.ListenAndServe(":8080", handler)

	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("X-Request-Id", "req-42")
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, r)
	fmt.Print(rec.Body.String())
	fmt.Println("X-Trace-Id:", rec.Header().Get("X-Trace-Id"))
	// Output:
	// handling req-42
	// X-Trace-Id: req-42
}

// A valid traceparent keeps its trace-id; this hop gets a new span id.
func Example_traceparent() {
	handler := trace.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sc, _ := trace.FromContext(r.Context())
		fmt.Println("trace-id:", sc.TraceID)
		fmt.Println("parent-id:", sc.ParentID)
		fmt.Println("new span:", sc.SpanID != sc.ParentID)
		fmt.Println("sampled:", sc.Flags.Sampled())
		fmt.Println("tracestate:", sc.TraceState)
		fmt.Println("id:", trace.ID(r.Context()))
	}))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	r.Header.Set("Tracestate", "congo=t61rcWkgMzE")
	handler.ServeHTTP(httptest.NewRecorder(), r)
	// Output:
	// trace-id: 4bf92f3577b34da6a3ce929d0e0e4736
	// parent-id: 00f067aa0ba902b7
	// new span: true
	// sampled: true
	// tracestate: congo=t61rcWkgMzE
	// id: 4bf92f3577b34da6a3ce929d0e0e4736
}

// m.Handler has the type func(http.Handler) http.Handler, so it plugs into
// routers' Use methods: with chi, r.Use(m.Handler). Here an edge service
// refuses ids from outside callers.
func ExampleMiddleware_Handler() {
	m, err := trace.New(trace.Config{
		TrustIncoming: func(r *http.Request) bool { return r.Header.Get("X-Internal") == "yes" },
	})
	if err != nil {
		panic(err)
	}
	// A minimal router: middlewares of type func(http.Handler) http.Handler.
	use := []func(http.Handler) http.Handler{m.Handler}
	var handler http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	for i := len(use) - 1; i >= 0; i-- {
		handler = use[i](handler)
	}

	for _, internal := range []string{"no", "yes"} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("X-Trace-Id", "client-chosen")
		r.Header.Set("X-Internal", internal)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, r)
		fmt.Printf("internal=%s kept=%v\n", internal, rec.Header().Get("X-Trace-Id") == "client-chosen")
	}
	// Output:
	// internal=no kept=false
	// internal=yes kept=true
}

// NewLogHandler adds trace_id, span_id (the W3C ids, under otelslog's names)
// and request_id to records logged with the request context.
func ExampleNewLogHandler() {
	text := slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			switch a.Key {
			case slog.TimeKey:
				return slog.Attr{} // deterministic output
			case trace.KeySpanID:
				return slog.String(a.Key, "<16 hex digits>")
			}
			return a
		},
	})
	logger := slog.New(trace.NewLogHandler(text))

	handler := trace.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		logger.InfoContext(r.Context(), "loading user", "user", 7)
	}))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("X-Request-Id", "abc-123")
	r.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	handler.ServeHTTP(httptest.NewRecorder(), r)
	// Output:
	// level=INFO msg="loading user" user=7 trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id="<16 hex digits>" request_id=abc-123
}

// Transport carries the id and a child traceparent to downstream services.
func ExampleTransport() {
	downstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tp := r.Header.Get("Traceparent")
		fmt.Println("downstream X-Trace-Id:", r.Header.Get("X-Trace-Id"))
		fmt.Println("downstream trace-id:", tp[3:35])
	}))
	defer downstream.Close()
	client := &http.Client{Transport: trace.Transport(nil)}
	defer client.CloseIdleConnections()

	handler := trace.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, downstream.URL, nil)
		resp, err := client.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		resp.Body.Close()
	}))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("X-Trace-Id", "0190b4a59c7e7d438a2b3f5e6d7c8b9a")
	handler.ServeHTTP(httptest.NewRecorder(), r)
	// Output:
	// downstream X-Trace-Id: 0190b4a59c7e7d438a2b3f5e6d7c8b9a
	// downstream trace-id: 0190b4a59c7e7d438a2b3f5e6d7c8b9a
}

// Config.AccessLog writes one record per request.
func ExampleConfig_accessLog() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			switch a.Key {
			case slog.TimeKey, "duration", trace.KeyTraceID, trace.KeySpanID:
				return slog.Attr{} // deterministic output
			}
			return a
		},
	}))
	m, err := trace.New(trace.Config{AccessLog: logger})
	if err != nil {
		panic(err)
	}
	handler := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no such item", http.StatusNotFound)
	}))
	r := httptest.NewRequest(http.MethodGet, "/items/9", nil)
	r.Header.Set("X-Trace-Id", "abc-123")
	handler.ServeHTTP(httptest.NewRecorder(), r)
	// Output:
	// level=INFO msg=request method=GET path=/items/9 status=404 bytes=13 request_id=abc-123
}

// New reports every problem of a Config at once, each naming its field.
func ExampleNew() {
	_, err := trace.New(trace.Config{Header: "Content-Length", UUIDVersion: 5, TraceStateLimit: 100})
	fmt.Println(err)
	// Output:
	// trace: Header: framing or hop-by-hop header (value "Content-Length")
	// trace: UUIDVersion: must be 0, 4 or 7 (value "5")
	// trace: TraceStateLimit: must be between 512 and 8192 (value "100")
}

// Inject and Extract carry the trace through a message queue: the producer
// writes the fields into the message's headers, the consumer reads them.
func ExampleInject() {
	var msg trace.MapCarrier
	producer := trace.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		msg = trace.MapCarrier{}
		trace.Inject(r.Context(), msg) // e.g. Kafka record headers
	}))
	r := httptest.NewRequest(http.MethodPost, "/orders", nil)
	r.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	producer.ServeHTTP(httptest.NewRecorder(), r)

	ctx := trace.Extract(context.Background(), msg) // the consumer
	sc, _ := trace.FromContext(ctx)
	fmt.Println("id:", trace.ID(ctx))
	fmt.Println("trace-id:", sc.TraceID)
	fmt.Println("sampled:", sc.Flags.Sampled())
	// Output:
	// id: 4bf92f3577b34da6a3ce929d0e0e4736
	// trace-id: 4bf92f3577b34da6a3ce929d0e0e4736
	// sampled: true
}

// HostAllowlist keeps the trace headers inside the organisation: an
// external API gets none of them.
func ExampleHostAllowlist() {
	m, _ := trace.New(trace.Config{PropagateTo: trace.HostAllowlist(".internal.example")})
	client := &http.Client{Transport: trace.Transport(roundTripFunc(func(r *http.Request) (*http.Response, error) {
		fmt.Printf("%s traceparent=%v\n", r.URL.Host, r.Header.Get("Traceparent") != "")
		return &http.Response{StatusCode: 204, Body: http.NoBody, Request: r}, nil
	}))}
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, u := range []string{"http://orders.internal.example/", "https://api.partner.example/"} {
			req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, u, nil)
			if resp, err := client.Do(req); err == nil {
				resp.Body.Close()
			}
		}
	})).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	// Output:
	// orders.internal.example traceparent=true
	// api.partner.example traceparent=false
}

// WithKeys renames the attributes, e.g. for a backend that expects
// dotted names.
func ExampleLogHandler_WithKeys() {
	text := slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "span.id" {
				return slog.Attr{} // deterministic output
			}
			return a
		},
	})
	lh, err := trace.NewLogHandler(text).WithKeys(trace.LogKeys{TraceID: "trace.id", SpanID: "span.id", RequestID: "http.request.id"})
	if err != nil {
		panic(err)
	}
	logger := slog.New(lh)
	trace.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		logger.InfoContext(r.Context(), "m")
	})).ServeHTTP(httptest.NewRecorder(), func() *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("X-Trace-Id", "0190b4a59c7e7d438a2b3f5e6d7c8b9a")
		return r
	}())
	// Output:
	// level=INFO msg=m trace.id=0190b4a59c7e7d438a2b3f5e6d7c8b9a http.request.id=0190b4a59c7e7d438a2b3f5e6d7c8b9a
}
