package browser_test

import (
	"encoding/json"
	"strings"
	"testing"
)

type limitedResult struct {
	Status      int    `json:"status"`
	Body        string `json:"body"`
	ContentType string `json:"contentType"`
	RateLimit   string `json:"rateLimit"`
	Policy      string `json:"policy"`
	RetryAfter  string `json:"retryAfter"`
	Error       string `json:"error"`
}

// limitedJS fetches /limited four times in a row (the policy admits 3).
func limitedJS(s *stack) string {
	return `(async () => {
	const out = [];
	for (let i = 0; i < 4; i++) {
		try {
			const r = await fetch(` + js(s.apiURL("/limited")) + `, {credentials: "include"});
			out.push({status: r.status, body: await r.text(), contentType: r.headers.get("Content-Type"),
				rateLimit: r.headers.get("RateLimit"), policy: r.headers.get("RateLimit-Policy"),
				retryAfter: r.headers.get("Retry-After")});
		} catch (e) {
			out.push({error: String(e)});
		}
	}
	return out;
})()`
}

// TestRateLimitFieldsAnd429ReadableWithCORSOutside: in the recommended
// order (cors outside ratelimit) the page reads the RateLimit fields of
// admitted requests and the 429 itself: its status, Retry-After and
// problem+json body.
func TestRateLimitFieldsAnd429ReadableWithCORSOutside(t *testing.T) {
	s := newStack(t, options{})
	tb := newTab(t)
	tb.open(s.appOrigin(appHost) + "/")
	got := eval[[]limitedResult](tb, limitedJS(s))
	if len(got) != 4 {
		t.Fatalf("%d results", len(got))
	}
	for i, want := range []string{`"burst";r=2`, `"burst";r=1`, `"burst";r=0`} {
		r := got[i]
		if r.Error != "" || r.Status != 200 {
			t.Errorf("request %d: %d %s; want 200", i+1, r.Status, r.Error)
		}
		if !strings.HasPrefix(r.RateLimit, want) || r.Policy != `"burst";q=3;w=60` {
			t.Errorf("request %d: RateLimit %q, RateLimit-Policy %q; want %s… and \"burst\";q=3;w=60", i+1, r.RateLimit, r.Policy, want)
		}
	}
	last := got[3]
	if last.Error != "" || last.Status != 429 {
		t.Fatalf("4th request: %d %s; want a 429 the page can read", last.Status, last.Error)
	}
	if last.RetryAfter == "" || last.RetryAfter == "0" {
		t.Errorf("429 Retry-After %q, want whole seconds ≥ 1", last.RetryAfter)
	}
	if !strings.HasPrefix(last.RateLimit, `"burst";r=0`) {
		t.Errorf("429 RateLimit %q", last.RateLimit)
	}
	var problem struct {
		Type   string `json:"type"`
		Status int    `json:"status"`
	}
	if err := json.Unmarshal([]byte(last.Body), &problem); err != nil || last.ContentType != "application/problem+json" ||
		problem.Status != 429 || !strings.HasSuffix(problem.Type, "#quota-exceeded") {
		t.Errorf("429 body %q (%s): want the quota-exceeded problem", last.Body, last.ContentType)
	}
	if n := len(s.apiRec.find("GET", "/limited")); n != 4 {
		t.Errorf("%d requests reached the server, want 4", n)
	}
}

// TestRateLimit429UnreadableWithLimiterOutsideCORS: with ratelimit outside
// cors, the 429 is answered before cors adds its headers, so the browser
// hides it from the page (a network error), although the server sent it.
// This is why the recommended order puts cors first.
func TestRateLimit429UnreadableWithLimiterOutsideCORS(t *testing.T) {
	s := newStack(t, options{limiterOutsideCORS: true})
	tb := newTab(t)
	tb.open(s.appOrigin(appHost) + "/")
	got := eval[[]limitedResult](tb, limitedJS(s))
	if len(got) != 4 {
		t.Fatalf("%d results", len(got))
	}
	for i, r := range got[:3] {
		if r.Status != 200 {
			t.Errorf("request %d: %d %s; want 200", i+1, r.Status, r.Error)
		}
	}
	if got[3].Error == "" || got[3].Status != 0 {
		t.Errorf("4th request readable by the page (%d): the 429 carries no CORS headers in this order", got[3].Status)
	}
	var statuses []float64
	for _, rec := range s.apiLog.records(t) {
		if rec["path"] == "/limited" {
			statuses = append(statuses, rec["status"].(float64))
		}
	}
	if len(statuses) != 4 || statuses[3] != 429 {
		t.Errorf("server statuses %v; want the 4th to be 429", statuses)
	}
}
