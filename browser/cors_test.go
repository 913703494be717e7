package browser_test

import (
	"strings"
	"testing"
)

// putResult is what the page learns from a credentialed, preflighted PUT.
type putResult struct {
	OK       bool   `json:"ok"`
	Error    string `json:"error"`
	Status   int    `json:"status"`
	Name     string `json:"name"`
	TraceID  string `json:"traceId"`  // exposed: readable
	Internal string `json:"internal"` // not exposed: null for the page
	ETag     string `json:"etag"`
}

// putScript logs in (the API sets a SameSite=Lax session cookie through a
// credentialed CORS response), then PUTs JSON with credentials: a
// non-safelisted method and content type, so the browser preflights.
func putScript(s *stack) string {
	return `(async () => {
	try {
		await fetch(` + js(s.apiURL("/login")) + `, {method: "POST", credentials: "include"});
	} catch (e) {} // a disallowed origin cannot read the answer (but gets no cookie either: cross-site)
	try {
		const r = await fetch(` + js(s.apiURL("/api/items/1")) + `, {
			method: "PUT", credentials: "include",
			headers: {"Content-Type": "application/json"},
			body: JSON.stringify({name: "renamed"}),
		});
		const body = await r.json();
		return {ok: true, status: r.status, name: body.name,
			traceId: r.headers.get("X-Trace-Id"), internal: r.headers.get("X-Internal"), etag: r.headers.get("ETag")};
	} catch (e) {
		return {ok: false, error: String(e)};
	}
})()`
}

func TestCORSCredentialedPreflightedPUTFromAllowedOrigin(t *testing.T) {
	for _, host := range []string{appHost, shopHost} { // both match https://*.example.test:PORT
		t.Run(host, func(t *testing.T) {
			s := newStack(t, options{})
			tb := newTab(t)
			tb.open(s.appOrigin(host) + "/")
			got := eval[putResult](tb, putScript(s))
			if !got.OK {
				t.Fatalf("fetch from %s failed in the browser: %s", s.appOrigin(host), got.Error)
			}
			if got.Status != 200 || got.Name != "renamed" {
				t.Errorf("status %d, name %q; want 200 and the PUT's name", got.Status, got.Name)
			}
			if s.putCalls.Load() != 1 {
				t.Errorf("PUT handler ran %d times, want 1", s.putCalls.Load())
			}
			// The browser preflighted the PUT, from this origin.
			pre := s.apiRec.find("OPTIONS", "/api/items/1")
			if len(pre) != 1 || pre[0].Header.Get("Access-Control-Request-Method") != "PUT" ||
				pre[0].Header.Get("Origin") != s.appOrigin(host) {
				t.Errorf("preflights seen: %+v; want one OPTIONS for PUT from %s", pre, s.appOrigin(host))
			}
			// The PUT carried the session cookie (credentials: "include").
			puts := s.apiRec.find("PUT", "/api/items/1")
			if len(puts) != 1 || !strings.Contains(puts[0].Header.Get("Cookie"), "sid=session-") {
				t.Errorf("PUT requests %+v; want one with the sid cookie", puts)
			}
		})
	}
}

func TestCORSExposedHeadersReadableOthersNot(t *testing.T) {
	s := newStack(t, options{})
	tb := newTab(t)
	tb.open(s.appOrigin(appHost) + "/")
	got := eval[putResult](tb, `fetch(`+js(s.apiURL("/api/items/1"))+`, {credentials: "include"}).then(async r => {
		await r.text();
		return {ok: true, status: r.status, traceId: r.headers.get("X-Trace-Id"),
			internal: r.headers.get("X-Internal"), etag: r.headers.get("ETag")};
	}, e => ({ok: false, error: String(e)}))`)
	if !got.OK {
		t.Fatalf("fetch failed: %s", got.Error)
	}
	if got.TraceID == "" || got.ETag == "" {
		t.Errorf("exposed X-Trace-Id %q, ETag %q: want both readable", got.TraceID, got.ETag)
	}
	if got.Internal != "" {
		t.Errorf("X-Internal readable by the page (%q): it is not in Access-Control-Expose-Headers", got.Internal)
	}
	// The field was on the wire all the same: CORS hides it, the server sent it.
	resp, _ := tb.response(s.apiURL("/api/items/1"))
	if resp == nil || header(resp.Headers, "X-Internal") != "not-exposed" {
		t.Errorf("Network domain: X-Internal missing from the response the browser received")
	}
}

func TestCORSBlocksDisallowedOrigins(t *testing.T) {
	for _, tc := range []struct{ desc, host string }{
		{"look-alike host that merely ends in example.test", lookalikeHost},
		{"apex domain, not a subdomain", apexHost},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			s := newStack(t, options{})
			tb := newTab(t)
			tb.open(s.appOrigin(tc.host) + "/")
			got := eval[putResult](tb, putScript(s))
			if got.OK || !strings.Contains(got.Error, "TypeError") {
				t.Fatalf("PUT from %s: %+v; want the browser to block it (TypeError)", s.appOrigin(tc.host), got)
			}
			// The preflight reached the API and was refused, so the PUT
			// itself was never sent.
			if pre := s.apiRec.find("OPTIONS", "/api/items/1"); len(pre) != 1 {
				t.Errorf("%d preflights, want 1", len(pre))
			}
			if n := len(s.apiRec.find("PUT", "/api/items/1")); n != 0 || s.putCalls.Load() != 0 {
				t.Errorf("PUT reached the server %d times (handler %d); want never", n, s.putCalls.Load())
			}
			// A simple GET needs no preflight: it is sent and served, but
			// the page cannot read the response (CORS is not access control).
			get := eval[putResult](tb, `fetch(`+js(s.apiURL("/api/items/2"))+`, {credentials: "include"}).then(
				r => ({ok: true, status: r.status}), e => ({ok: false, error: String(e)}))`)
			if get.OK {
				t.Errorf("GET from %s readable by the page: %+v", tc.host, get)
			}
			if n := len(s.apiRec.find("GET", "/api/items/2")); n != 1 {
				t.Errorf("simple GET reached the server %d times, want 1", n)
			}
		})
	}
}

// TestCORSPreflightRejectsUnlistedMethodAndHeader: from an allowed origin, a
// preflight asking for a method (PATCH) or a request header (X-Debug) the
// API does not list is refused, so the browser never sends the request.
func TestCORSPreflightRejectsUnlistedMethodAndHeader(t *testing.T) {
	for _, tc := range []struct{ desc, init, method string }{
		{"method not in Methods", `{method: "PATCH", credentials: "include"}`, "PATCH"},
		{"header not in RequestHeaders", `{method: "PUT", credentials: "include", headers: {"X-Debug": "1"}}`, "PUT"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			s := newStack(t, options{})
			tb := newTab(t)
			tb.open(s.appOrigin(appHost) + "/")
			got := eval[putResult](tb, `fetch(`+js(s.apiURL("/api/items/1"))+`, `+tc.init+`).then(
				r => ({ok: true, status: r.status}), e => ({ok: false, error: String(e)}))`)
			if got.OK {
				t.Errorf("%s request readable (%d): the preflight should have failed", tc.method, got.Status)
			}
			pre := s.apiRec.find("OPTIONS", "/api/items/1")
			if len(pre) != 1 || pre[0].Header.Get("Access-Control-Request-Method") != tc.method {
				t.Errorf("preflights %+v; want one for %s", pre, tc.method)
			}
			if n := len(s.apiRec.find(tc.method, "/api/items/1")); n != 0 {
				t.Errorf("the %s itself reached the server %d times", tc.method, n)
			}
		})
	}
}
