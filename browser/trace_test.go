package browser_test

import (
	"testing"
)

// TestTraceIDReadableAndInServerLog: the page reads X-Trace-Id (exposed by
// cors) and finds the same id in the API's access log line for its request.
func TestTraceIDReadableAndInServerLog(t *testing.T) {
	s := newStack(t, options{})
	tb := newTab(t)
	tb.open(s.appOrigin(appHost) + "/")
	ids := eval[[]string](tb, `Promise.all([1, 2].map(async i => {
	const r = await fetch(`+js(s.apiURL("/api/items/"))+` + i, {credentials: "include"});
	await r.text();
	return r.headers.get("X-Trace-Id");
}))`)
	if len(ids) != 2 || ids[0] == "" || ids[0] == ids[1] {
		t.Fatalf("trace ids read by the page: %q; want two distinct ids", ids)
	}
	for i, id := range ids {
		path := "/api/items/" + itoa(i+1)
		var lines []map[string]any
		for _, rec := range s.apiLog.records(t) {
			if rec["trace_id"] == id {
				lines = append(lines, rec)
			}
		}
		if len(lines) != 1 || lines[0]["path"] != path || lines[0]["method"] != "GET" || lines[0]["status"] != float64(200) {
			t.Errorf("log lines with trace_id %s: %v; want the one GET %s 200", id, lines, path)
		}
	}
}
