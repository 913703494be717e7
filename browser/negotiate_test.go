package browser_test

import (
	"encoding/json"
	"strings"
	"testing"
)

type negotiated struct {
	Status      int    `json:"status"`
	ContentType string `json:"contentType"`
	Body        string `json:"body"`
	Error       string `json:"error"`
}

// TestNegotiate406ReadableByThePage: Accept is a CORS-safelisted request
// field, so the page may send it without a preflight; a type the API cannot
// produce gets a 406 problem+json the page can read (cors is outside
// negotiate), and the browser's own Accept gets JSON.
func TestNegotiate406ReadableByThePage(t *testing.T) {
	s := newStack(t, options{})
	tb := newTab(t)
	tb.open(s.appOrigin(appHost) + "/")
	got := eval[[]negotiated](tb, `Promise.all([undefined, "text/csv"].map(accept =>
	fetch(`+js(s.apiURL("/api/items/1"))+`, {credentials: "include", headers: accept ? {Accept: accept} : {}}).then(
		async r => ({status: r.status, contentType: r.headers.get("Content-Type"), body: await r.text()}),
		e => ({error: String(e)}))))`)
	if got[0].Status != 200 || got[0].ContentType != "application/json" {
		t.Errorf("browser's Accept: %d %q %s; want 200 JSON", got[0].Status, got[0].ContentType, got[0].Error)
	}
	var problem struct {
		Status    int `json:"status"`
		Available struct {
			Types []string `json:"types"`
		} `json:"available"`
	}
	if got[1].Status != 406 || got[1].ContentType != "application/problem+json" ||
		json.Unmarshal([]byte(got[1].Body), &problem) != nil || problem.Status != 406 ||
		!strings.Contains(strings.Join(problem.Available.Types, " "), "application/json") {
		t.Errorf("Accept: text/csv: %d %q %q %s; want a readable 406 problem listing application/json",
			got[1].Status, got[1].ContentType, got[1].Body, got[1].Error)
	}
	if n := len(s.apiRec.find("OPTIONS", "/api/items/1")); n != 0 {
		t.Errorf("%d preflights for a safelisted Accept", n)
	}
}
