package browser_test

import (
	"testing"
	"time"
)

// TestWebSocketEchoThroughTheChain: the page opens a WebSocket to the API
// (trace → security → cors → ratelimit → idempotency → compress → cache →
// gorilla/websocket, which hijacks the connection through every wrapper
// with a legacy w.(http.Hijacker) assertion) and gets its message echoed.
func TestWebSocketEchoThroughTheChain(t *testing.T) {
	s := newStack(t, options{})
	tb := newTab(t)
	tb.open(s.appOrigin(appHost) + "/")
	url := "wss://" + apiHost + ":" + s.api.port + "/ws"
	got, err := evalErr[string](tb, `new Promise((resolve, reject) => {
	const ws = new WebSocket(`+js(url)+`);
	ws.onopen = () => ws.send("hello through httpmw");
	ws.onmessage = (e) => { resolve(e.data); ws.close(); };
	ws.onerror = () => reject(new Error("WebSocket error"));
})`)
	if err != nil {
		t.Fatalf("WebSocket in the browser: %v; server's upgrade error: %v", err, s.wsErr.Load())
	}
	if got != "echo: hello through httpmw" {
		t.Errorf("echo %q", got)
	}
	// The 101 came through the outer middlewares: it carries their headers.
	tb.mu.Lock()
	hs := tb.wsHeaders
	tb.mu.Unlock()
	if len(hs) != 1 || header(hs[0], "X-Trace-Id") == "" || header(hs[0], "X-Content-Type-Options") != "nosniff" {
		t.Errorf("handshake responses %v; want one with X-Trace-Id and the security headers", hs)
	}
	// trace logged the upgrade (after the handler returned) under the id the
	// browser got on the 101.
	if len(hs) == 1 {
		var lines []map[string]any
		wsLines := func() bool {
			lines = lines[:0]
			for _, rec := range s.apiLog.records(t) {
				if rec["path"] == "/ws" {
					lines = append(lines, rec)
				}
			}
			return len(lines) > 0
		}
		// The handler returns when it reads the page's close frame.
		waitFor(t, s.apiRec, 10*time.Second, "the access log line of /ws", wsLines)
		if len(lines) != 1 || lines[0]["trace_id"] != header(hs[0], "X-Trace-Id") || lines[0]["status"] != float64(101) {
			t.Errorf("access log lines for /ws: %v; want one, status 101, trace_id %s", lines, header(hs[0], "X-Trace-Id"))
		}
	}
	reqs := s.apiRec.find("GET", "/ws")
	if len(reqs) != 1 || reqs[0].Header.Get("Origin") != s.appOrigin(appHost) {
		t.Errorf("upgrade requests %+v", reqs)
	}
}
