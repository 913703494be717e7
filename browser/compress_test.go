package browser_test

import (
	"strings"
	"testing"
	"time"
)

type textResult struct {
	Status int    `json:"status"`
	Body   string `json:"body"`
	Error  string `json:"error"`
}

func TestCompressionDecodedByTheBrowser(t *testing.T) {
	s := newStack(t, options{})
	tb := newTab(t)
	tb.open(s.appOrigin(appHost) + "/")
	for _, coding := range []string{"zstd", "br", "gzip"} {
		t.Run(coding, func(t *testing.T) {
			url := s.apiURL("/text/" + coding)
			got := eval[textResult](tb, `fetch(`+js(url)+`, {credentials: "include"}).then(
				async r => ({status: r.status, body: await r.text()}), e => ({error: String(e)}))`)
			if got.Error != "" || got.Status != 200 {
				t.Fatalf("fetch %s: status %d, %s", url, got.Status, got.Error)
			}
			if got.Body != bigText {
				t.Errorf("body as the page reads it: %d bytes, want the handler's %d bytes intact", len(got.Body), len(bigText))
			}
			// What came over the wire, as the browser's Network domain saw it.
			resp, wire := tb.response(url)
			if resp == nil {
				t.Fatalf("no Network.responseReceived for %s", url)
			}
			if resp.Protocol != "h2" {
				t.Errorf("protocol %q, want h2 (HTTP/2 over TLS, as in production)", resp.Protocol)
			}
			if ce := header(resp.Headers, "Content-Encoding"); ce != coding {
				t.Errorf("Content-Encoding %q, want %q", ce, coding)
			}
			if wire <= 0 || wire*4 > float64(len(bigText)) {
				t.Errorf("%v body bytes on the wire for %d decoded: not compressed", wire, len(bigText))
			}
			t.Logf("%s: %.0f bytes on the wire for %d decoded, %s", coding, wire, len(bigText), resp.Protocol)
			if vary := header(resp.Headers, "Vary"); !strings.Contains(strings.ToLower(vary), "accept-encoding") {
				t.Errorf("Vary %q lacks Accept-Encoding", vary)
			}
		})
	}
	// The browser offered every coding (zstd only over HTTPS).
	for _, r := range s.apiRec.find("GET", "/text/zstd") {
		if ae := r.Header.Get("Accept-Encoding"); !strings.Contains(ae, "zstd") || !strings.Contains(ae, "br") {
			t.Errorf("Accept-Encoding %q", ae)
		}
	}
}

type sseArrival struct {
	Data string  `json:"data"`
	At   float64 `json:"at"` // ms since the epoch (performance.timeOrigin + now())
}

// TestSSEEventsArriveOneByOneThroughCompress: /events sends each event only
// after the page acknowledged the previous one, so every event must reach
// the page's EventSource on its own, through the API's whole chain
// (compression included), while the stream stays open.
func TestSSEEventsArriveOneByOneThroughCompress(t *testing.T) {
	s := newStack(t, options{})
	tb := newTab(t)
	tb.open(s.appOrigin(appHost) + "/")
	url := s.apiURL("/events")
	got := eval[[]sseArrival](tb, `new Promise((resolve, reject) => {
	const es = new EventSource(`+js(url)+`, {withCredentials: true});
	const got = [];
	const last = `+itoa(sseEvents)+`;
	es.onmessage = (e) => {
		got.push({data: e.data, at: performance.timeOrigin + performance.now()});
		const n = got.length;
		if (n === last) es.close(); // before the server, acknowledged, ends the stream
		fetch(`+js(s.apiURL("/events/ack?n="))+` + n, {method: "POST", credentials: "include"}).then(
			() => { if (n === last) resolve(got); }, reject);
	};
	es.onerror = () => {
		if (got.length < last) { es.close(); reject(new Error("EventSource error after " + got.length + " events")); }
	};
})`)
	if len(got) != sseEvents {
		t.Fatalf("%d events, want %d", len(got), sseEvents)
	}
	sent := s.sse.sentTimes()
	if len(sent) != sseEvents {
		t.Fatalf("server flushed %d events, want %d", len(sent), sseEvents)
	}
	for i, ev := range got {
		if want := "event " + itoa(i+1); ev.Data != want {
			t.Errorf("event %d: data %q, want %q", i+1, ev.Data, want)
		}
		at := time.UnixMicro(int64(ev.At * 1000))
		// Arrived after the server began writing it and before it began
		// the next one (which it does only on the page's acknowledgement).
		// Both bounds are causal; the slack covers the page clock's
		// coarsening (performance.now() is rounded to 100 µs).
		const slack = 2 * time.Millisecond
		if at.Before(sent[i].Add(-slack)) {
			t.Errorf("event %d arrived %v before it was sent", i+1, sent[i].Sub(at))
		}
		if i+1 < len(sent) && at.After(sent[i+1].Add(slack)) {
			t.Errorf("event %d arrived %v after event %d was sent: held back", i+1, at.Sub(sent[i+1]), i+2)
		}
		t.Logf("event %d: sent %s, arrived %s", i+1, sent[i].Format("15:04:05.000000"), at.Format("15:04:05.000000"))
	}
	resp, _ := tb.response(url)
	if resp == nil {
		t.Fatalf("no Network.responseReceived for %s", url)
	}
	if ce := header(resp.Headers, "Content-Encoding"); ce == "" {
		t.Errorf("the event stream was not compressed (no Content-Encoding): the test would not cover compress")
	} else {
		t.Logf("event stream Content-Encoding: %s", ce)
	}
}
