package browser_test

import (
	"testing"
)

type revalidation struct {
	Status1 int    `json:"status1"`
	Status2 int    `json:"status2"`
	Body1   string `json:"body1"`
	Body2   string `json:"body2"`
	ETag1   string `json:"etag1"`
	ETag2   string `json:"etag2"`
	Error   string `json:"error"`
}

// TestCacheRevalidationGets304AndCachedBody: the API answers GETs with an
// ETag and "Cache-Control: no-cache", so the browser stores the response and
// revalidates it on the next fetch: If-None-Match with the stored ETag, a
// 304 from the cache middleware, and the page gets the stored body with
// status 200.
func TestCacheRevalidationGets304AndCachedBody(t *testing.T) {
	s := newStack(t, options{})
	tb := newTab(t)
	tb.open(s.appOrigin(appHost) + "/")
	url := s.apiURL("/api/items/3")
	got := eval[revalidation](tb, `(async () => {
	try {
		const a = await fetch(`+js(url)+`, {credentials: "include"});
		const body1 = await a.text();
		const b = await fetch(`+js(url)+`, {credentials: "include"});
		return {status1: a.status, body1, etag1: a.headers.get("ETag"),
			status2: b.status, body2: await b.text(), etag2: b.headers.get("ETag")};
	} catch (e) { return {error: String(e)}; }
})()`)
	if got.Error != "" {
		t.Fatalf("fetch: %s", got.Error)
	}
	if got.Status1 != 200 || got.Status2 != 200 || got.Body1 == "" || got.Body2 != got.Body1 || got.ETag2 != got.ETag1 {
		t.Errorf("page saw %d %q then %d %q (ETags %q, %q); want 200 twice with the same body",
			got.Status1, shorten(got.Body1), got.Status2, shorten(got.Body2), got.ETag1, got.ETag2)
	}
	if got.ETag1 == "" {
		t.Fatalf("no ETag readable by the page")
	}

	// The page saw 200 (the cached body); the browser's Network domain saw
	// the 304 on the wire.
	resp, _ := tb.response(url)
	if st := tb.wireStatus(url); resp == nil || resp.Status != 200 || st != 304 {
		t.Errorf("Network domain: wire status %d (page status %v), want 304 revalidating a 200", st, resp != nil && resp.Status == 200)
	}

	reqs := s.apiRec.find("GET", "/api/items/3")
	if len(reqs) != 2 {
		t.Fatalf("%d GETs reached the server, want 2 (the second a revalidation)", len(reqs))
	}
	if inm := reqs[0].Header.Get("If-None-Match"); inm != "" {
		t.Errorf("first GET carried If-None-Match %q", inm)
	}
	if inm := reqs[1].Header.Get("If-None-Match"); inm != got.ETag1 {
		t.Errorf("revalidation If-None-Match %q, want the stored ETag %q", inm, got.ETag1)
	}
	var statuses []float64
	for _, rec := range s.apiLog.records(t) {
		if rec["msg"] == "request" && rec["path"] == "/api/items/3" {
			statuses = append(statuses, rec["status"].(float64))
		}
	}
	if len(statuses) != 2 || statuses[0] != 200 || statuses[1] != 304 {
		t.Errorf("access log statuses %v, want [200 304]", statuses)
	}
}

func shorten(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}
