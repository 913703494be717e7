package browser_test

import (
	"testing"
	"time"
)

type orderResult struct {
	Status   int    `json:"status"`
	Body     string `json:"body"`
	Replayed string `json:"replayed"`
	Retry    string `json:"retryAfter"`
	TraceID  string `json:"traceId"`
	Error    string `json:"error"`
}

// postOrderJS defines window.postOrder(signal): a credentialed JSON POST
// with a fixed Idempotency-Key (sf-string, as the draft defines it), the
// same body each time. Content-Type and Idempotency-Key make it preflighted.
func postOrderJS(url string) string {
	return `window.key = crypto.randomUUID();
window.postOrder = (signal) => fetch(` + js(url) + `, {
	method: "POST", credentials: "include", signal,
	headers: {"Content-Type": "application/json", "Idempotency-Key": '"' + window.key + '"'},
	body: JSON.stringify({sku: "httpmw-mug", qty: 2}),
}).then(async r => ({status: r.status, body: await r.text(), replayed: r.headers.get("Idempotent-Replayed"),
	retryAfter: r.headers.get("Retry-After"), traceId: r.headers.get("X-Trace-Id")}),
	e => ({error: String(e)}));
true`
}

// TestIdempotencyRetryGetsReplay: the page POSTs, then retries with the same
// key: the handler runs once, the retry gets the stored 201 and body with
// Idempotent-Replayed: true (readable: exposed), under a fresh trace id.
func TestIdempotencyRetryGetsReplay(t *testing.T) {
	s := newStack(t, options{})
	tb := newTab(t)
	tb.open(s.appOrigin(appHost) + "/")
	eval[bool](tb, postOrderJS(s.apiURL("/orders")))
	first := eval[orderResult](tb, `postOrder()`)
	retry := eval[orderResult](tb, `postOrder()`)
	if first.Error != "" || retry.Error != "" {
		t.Fatalf("fetch errors: %q, %q", first.Error, retry.Error)
	}
	if first.Status != 201 || first.Replayed != "" {
		t.Errorf("first: %d, Idempotent-Replayed %q; want 201 and no replay", first.Status, first.Replayed)
	}
	if retry.Status != 201 || retry.Body != first.Body || retry.Replayed != "true" {
		t.Errorf("retry: %d %q replayed=%q; want the first response (201 %q) replayed", retry.Status, retry.Body, retry.Replayed, first.Body)
	}
	if retry.TraceID == "" || retry.TraceID == first.TraceID {
		t.Errorf("trace ids %q, %q: a replay carries its own request's id", first.TraceID, retry.TraceID)
	}
	if n := s.orderCalls.Load(); n != 1 {
		t.Errorf("handler ran %d times, want once", n)
	}
}

// TestIdempotencyRetryAfterAbortedRequest: the page gives up on a slow POST
// (AbortController, as a fetch timeout does) and retries with the same key:
// while the first is still running the retry gets 409 with Retry-After;
// once it has finished, the retry gets its response, which the page never
// saw, replayed.
func TestIdempotencyRetryAfterAbortedRequest(t *testing.T) {
	s := newStack(t, options{})
	tb := newTab(t)
	tb.open(s.appOrigin(appHost) + "/")
	eval[bool](tb, postOrderJS(s.apiURL("/orders?hold")))
	eval[bool](tb, `window.ctrl = new AbortController(); window.firstTry = postOrder(ctrl.signal); true`)
	select {
	case <-s.orderHeld:
	case <-time.After(10 * time.Second):
		t.Fatal("the first POST never reached the handler")
	}
	aborted := eval[orderResult](tb, `ctrl.abort(); firstTry`)
	if aborted.Error == "" {
		t.Fatalf("aborted fetch resolved: %+v", aborted)
	}
	busy := eval[orderResult](tb, `postOrder()`)
	if busy.Status != 409 || busy.Retry == "" {
		t.Errorf("retry while the first runs: %d, Retry-After %q; want 409 with Retry-After", busy.Status, busy.Retry)
	}
	close(s.orderRelease)
	// Wait until the whole chain is done with the first request (trace logs
	// it last), so its record is complete whatever idempotency does after
	// the handler returns.
	waitFor(t, s.apiRec, 10*time.Second, "the first POST to finish", func() bool {
		for _, rec := range s.apiLog.records(t) {
			if rec["method"] == "POST" && rec["path"] == "/orders" && rec["status"] == float64(201) {
				return true
			}
		}
		return false
	})
	replay := eval[orderResult](tb, `postOrder()`)
	if replay.Status != 201 || replay.Replayed != "true" || replay.Body == "" {
		t.Errorf("retry after the first finished: %d replayed=%q body %q; want the stored 201", replay.Status, replay.Replayed, replay.Body)
	}
	if n := s.orderCalls.Load(); n != 1 {
		t.Errorf("handler ran %d times, want once", n)
	}
}
