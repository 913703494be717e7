package trace_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/jiec/httpmw/trace"
)

// captureRT records the outgoing request instead of sending it.
type captureRT struct{ got []*http.Request }

func (c *captureRT) RoundTrip(r *http.Request) (*http.Response, error) {
	c.got = append(c.got, r)
	return &http.Response{StatusCode: 200, Request: r, Header: http.Header{}, Body: http.NoBody}, nil
}

// outgoing makes n client calls from inside a traced request.
func outgoing(t *testing.T, in *http.Request, n int, prepare func(*http.Request)) (trace.SpanContext, string, []*http.Request, []*http.Request) {
	t.Helper()
	rt := &captureRT{}
	client := &http.Client{Transport: trace.Transport(rt)}
	var sc trace.SpanContext
	var id string
	var sent []*http.Request
	trace.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sc, _ = trace.FromContext(r.Context())
		id = trace.ID(r.Context())
		for range n {
			out, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, "http://downstream.test/", nil)
			if prepare != nil {
				prepare(out)
			}
			sent = append(sent, out)
			resp, err := client.Do(out)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
	})).ServeHTTP(httptest.NewRecorder(), in)
	return sc, id, sent, rt.got
}

func TestTransportPropagatesTrace(t *testing.T) {
	sc, id, sent, got := outgoing(t, req("Traceparent", tp, "Tracestate", "foo=1"), 3, nil)
	parents := map[string]bool{}
	for i, r := range got {
		if r.Header.Get("X-Trace-Id") != id {
			t.Errorf("call %d: X-Trace-Id = %q, want %q", i, r.Header.Get("X-Trace-Id"), id)
		}
		out, err := trace.ParseTraceparent(r.Header.Values("Traceparent"))
		if err != nil {
			t.Fatalf("call %d: traceparent %q: %v", i, r.Header.Get("Traceparent"), err)
		}
		if out.TraceID != sc.TraceID || out.Flags != sc.Flags {
			t.Errorf("call %d: %+v, want trace %s flags %02x", i, out, sc.TraceID, sc.Flags)
		}
		parents[out.ParentID.String()] = true
		if r.Header.Get("Tracestate") != "foo=1" {
			t.Errorf("call %d: tracestate = %q", i, r.Header.Get("Tracestate"))
		}
		if len(sent[i].Header) != 0 {
			t.Errorf("call %d: caller's request modified: %v", i, sent[i].Header)
		}
	}
	// Each call is a distinct child (w3c test suite AdvancedTest).
	if len(parents) != 3 {
		t.Errorf("parent-ids %v: want 3 distinct", parents)
	}
}

func TestTransportKeepsCallerHeaders(t *testing.T) {
	_, _, _, got := outgoing(t, req(), 1, func(r *http.Request) {
		r.Header.Set("X-Trace-Id", "mine")
		r.Header.Set("Traceparent", "00-"+tid+"-"+pid+"-00")
	})
	if got[0].Header.Get("X-Trace-Id") != "mine" || !strings.Contains(got[0].Header.Get("Traceparent"), tid) {
		t.Errorf("caller headers overwritten: %v", got[0].Header)
	}
}

func TestTransportWithoutTraceContextPassesThrough(t *testing.T) {
	rt := &captureRT{}
	r, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://downstream.test/", nil)
	if _, err := trace.Transport(rt).RoundTrip(r); err != nil {
		t.Fatal(err)
	}
	if rt.got[0] != r || len(r.Header) != 0 {
		t.Errorf("request changed: %v", rt.got[0].Header)
	}
}

func TestTransportOmitsEmptyTraceState(t *testing.T) {
	_, _, _, got := outgoing(t, req(), 1, nil)
	if _, ok := got[0].Header["Tracestate"]; ok {
		t.Error("empty tracestate sent")
	}
}

// TestTransportReplacesHeadersAProxyCopied: httputil.ReverseProxy copies the
// client's header lines to the outgoing request. Those are not headers the
// caller chose: a copied traceparent, tracestate or id header is replaced by
// this hop's child context, so an edge service (TrustIncoming false) does not
// forward a forged trace, and invalid ids never travel downstream.
func TestTransportReplacesHeadersAProxyCopied(t *testing.T) {
	cases := []struct {
		desc      string
		cfg       trace.Config
		hdr       []string
		continued bool   // downstream continues tid
		state     string // downstream tracestate
	}{
		{"untrusted edge: forged context and id", trace.Config{TrustIncoming: func(*http.Request) bool { return false }},
			[]string{"X-Trace-Id", "client-id", "Traceparent", tp, "Tracestate", "foo=1"}, false, ""},
		{"invalid traceparent and id", trace.Config{},
			[]string{"X-Trace-Id", "a\tb", "Traceparent", "00-" + tid + "-" + pid + "-0.", "Tracestate", "foo=1"}, false, ""},
		{"duplicated traceparent", trace.Config{},
			[]string{"Traceparent", tp, "Traceparent", tp}, false, ""},
		{"invalid tracestate", trace.Config{},
			[]string{"Traceparent", tp, "Tracestate", "FOO=1"}, true, ""},
		{"valid context continues as a child", trace.Config{},
			[]string{"X-Trace-Id", "client-id", "Traceparent", tp, "Tracestate", "foo=1, ,bar=2", "Tracestate", "baz=3"}, true, "foo=1,bar=2,baz=3"},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			rt := &captureRT{}
			target, _ := url.Parse("http://downstream.test/")
			proxy := &httputil.ReverseProxy{
				Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(target) },
				Transport: trace.Transport(rt),
			}
			var id string
			var sc trace.SpanContext
			h := newMW(t, c.cfg)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				id = trace.ID(r.Context())
				sc, _ = trace.FromContext(r.Context())
				proxy.ServeHTTP(w, r)
			}))
			h.ServeHTTP(httptest.NewRecorder(), req(c.hdr...))
			if len(rt.got) != 1 {
				t.Fatalf("%d outgoing requests", len(rt.got))
			}
			out := rt.got[0].Header
			if got := out.Values("X-Trace-Id"); len(got) != 1 || got[0] != id {
				t.Errorf("X-Trace-Id %q, want %q", got, id)
			}
			got, err := trace.ParseTraceparent(out.Values("Traceparent"))
			if err != nil {
				t.Fatalf("traceparent %q: %v", out.Values("Traceparent"), err)
			}
			if got.TraceID != sc.TraceID || (got.TraceID.String() == tid) != c.continued {
				t.Errorf("trace-id %s, want %s (continued %v)", got.TraceID, sc.TraceID, c.continued)
			}
			if got.ParentID == sc.ParentID || got.ParentID.String() == pid {
				t.Errorf("parent-id %s: want a child of this hop", got.ParentID)
			}
			if ts := strings.Join(out.Values("Tracestate"), ","); ts != c.state {
				t.Errorf("tracestate %q, want %q", ts, c.state)
			}
		})
	}
}
