package trace_test

import (
	"bufio"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jiec/httpmw/trace"
)

// TestWireConformance replays the w3c/trace-context test suite's scenarios
// over a real connection: raw header lines (repeated fields, odd casing,
// OWS) reach a server using the middleware, whose handler calls a
// downstream service through Transport; the downstream sees the propagated
// headers, as the suite's harness does.
func TestWireConformance(t *testing.T) {
	type got struct{ traceparent, tracestate []string }
	calls := make(chan got, 1)
	downstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls <- got{r.Header.Values("Traceparent"), r.Header.Values("Tracestate")}
	}))
	defer downstream.Close()
	client := &http.Client{Transport: trace.Transport(nil)}
	defer client.CloseIdleConnections()
	service := httptest.NewServer(trace.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, downstream.URL, nil)
		resp, err := client.Do(out)
		if err != nil {
			t.Error(err)
			return
		}
		resp.Body.Close()
	})))
	defer service.Close()

	cases := []struct {
		desc      string
		lines     []string
		continued bool   // the trace-id 1234...9012 is kept
		state     string // expected propagated tracestate
	}{
		{"none", nil, false, ""},
		{"traceparent only", []string{"traceparent: " + tp}, true, ""},
		{"duplicated traceparent", []string{"traceparent: " + tp, "traceparent: 00-" + tid[:31] + "1-" + pid + "-01"}, false, ""},
		{"wrong name trace-parent", []string{"trace-parent: " + tp}, false, ""},
		{"mixed case name", []string{"TrAcEpArEnT: " + tp}, true, ""},
		{"OWS", []string{"traceparent: \t " + tp + " \t"}, true, ""},
		{"future version", []string{"traceparent: cc-" + tid + "-" + pid + "-01-what-the-future-will-be-like"}, true, ""},
		{"version ff", []string{"traceparent: ff-" + tid + "-" + pid + "-01"}, false, ""},
		{"tracestate without traceparent", []string{"tracestate: foo=1"}, false, ""},
		{"tracestate kept", []string{"traceparent: " + tp, "tracestate: foo=1,bar=2"}, true, "foo=1,bar=2"},
		{"tracestate wrong name", []string{"traceparent: " + tp, "trace-state: foo=1"}, true, ""},
		{"tracestate lines combined", []string{"traceparent: " + tp, "tracestate: foo=1,bar=2", "TRACESTATE: rojo=1,congo=2", "tracestate: baz=3"}, true, "foo=1,bar=2,rojo=1,congo=2,baz=3"},
		{"empty tracestate line", []string{"traceparent: " + tp, "tracestate:", "tracestate: foo=1"}, true, "foo=1"},
		{"tracestate duplicated key over lines", []string{"traceparent: " + tp, "tracestate: foo=1", "tracestate: foo=2"}, true, "foo=1"},
		{"tracestate illegal key", []string{"traceparent: " + tp, "tracestate: foo.bar=1"}, true, ""},
		{"tracestate OWS", []string{"traceparent: " + tp, "tracestate: \t foo=1 \t , \t bar=2"}, true, "foo=1,bar=2"},
		{"invalid traceparent drops tracestate", []string{"traceparent: 00-" + tid + "-" + pid + "-0.", "tracestate: foo=1"}, false, ""},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			conn, err := net.Dial("tcp", service.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			raw := "GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n"
			for _, l := range c.lines {
				raw += l + "\r\n"
			}
			if _, err := conn.Write([]byte(raw + "\r\n")); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			g := <-calls
			if len(g.traceparent) != 1 {
				t.Fatalf("downstream got %d traceparent fields", len(g.traceparent))
			}
			out, err := trace.ParseTraceparent(g.traceparent)
			if err != nil {
				t.Fatalf("downstream traceparent %q: %v", g.traceparent[0], err)
			}
			if !strings.HasPrefix(g.traceparent[0], "00-") {
				t.Errorf("traceparent %q: want version 00", g.traceparent[0])
			}
			if (out.TraceID.String() == tid) != c.continued {
				t.Errorf("trace-id %s, continued want %v", out.TraceID, c.continued)
			}
			if out.ParentID.String() == pid {
				t.Error("parent-id not replaced")
			}
			if got := strings.Join(g.tracestate, ","); got != c.state {
				t.Errorf("tracestate %q, want %q", got, c.state)
			}
			if id := resp.Header.Get("X-Trace-Id"); !trace.ValidID(id) {
				t.Errorf("X-Trace-Id %q", id)
			}
		})
	}
}
