package problem_test

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/jiec/httpmw/internal/problem"
	"github.com/jiec/httpmw/internal/traceid"
)

type traceID string

func (t traceID) TraceID() string { return string(t) }

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	if !json.Valid(b) {
		t.Fatalf("invalid JSON: %q", b)
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("decoding %q: %v", b, err)
	}
	return m
}

func TestWriteSendsRFC9457Document(t *testing.T) {
	tests := []struct {
		desc string
		d    problem.Details
		want map[string]any
	}{{
		desc: "defaults: about:blank and the status text (RFC 9457 §4.2.1)",
		d:    problem.Details{Status: http.StatusTooManyRequests},
		want: map[string]any{"type": "about:blank", "title": "Too Many Requests", "status": json.Number("429")},
	}, {
		desc: "all standard members",
		d: problem.Details{
			Type: "https://example.com/probs/out-of-credit", Title: "You do not have enough credit.",
			Status: 403, Detail: "Your current balance is 30, but that costs 50.", Instance: "/account/12345/msgs/abc",
		},
		want: map[string]any{
			"type": "https://example.com/probs/out-of-credit", "title": "You do not have enough credit.",
			"status": json.Number("403"), "detail": "Your current balance is 30, but that costs 50.",
			"instance": "/account/12345/msgs/abc",
		},
	}, {
		desc: "extension members (RFC 9457 §3.2)",
		d:    problem.Details{Status: 429, Extensions: map[string]any{"retry_after": 30, "limits": []string{"a", "b"}}},
		want: map[string]any{
			"type": "about:blank", "title": "Too Many Requests", "status": json.Number("429"),
			"retry_after": json.Number("30"), "limits": []any{"a", "b"},
		},
	}, {
		desc: "extensions cannot override or add standard members",
		d: problem.Details{Status: 412, Detail: "real detail", Extensions: map[string]any{
			"type": "https://evil.example/", "title": "evil", "status": 200, "detail": "evil", "instance": "/evil", "ok": true,
		}},
		want: map[string]any{
			"type": "about:blank", "title": "Precondition Failed", "status": json.Number("412"), "detail": "real detail", "ok": true,
		},
	}, {
		desc: "an unencodable extension drops the extensions, not the document",
		d:    problem.Details{Status: 400, Detail: "bad", Extensions: map[string]any{"nan": math.NaN(), "ch": make(chan int)}},
		want: map[string]any{"type": "about:blank", "title": "Bad Request", "status": json.Number("400"), "detail": "bad"},
	}, {
		desc: "zero status becomes 500",
		d:    problem.Details{Detail: "oops"},
		want: map[string]any{"type": "about:blank", "title": "Internal Server Error", "status": json.Number("500"), "detail": "oops"},
	}}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			rec := httptest.NewRecorder()
			problem.Write(rec, httptest.NewRequest(http.MethodGet, "/", nil), tt.d)
			res := rec.Result()
			wantStatus, _ := strconv.Atoi(string(tt.want["status"].(json.Number)))
			if res.StatusCode != wantStatus {
				t.Errorf("status %d, want %d", res.StatusCode, wantStatus)
			}
			if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type %q, want application/problem+json", ct)
			}
			if cl := res.Header.Get("Content-Length"); cl != strconv.Itoa(rec.Body.Len()) {
				t.Errorf("Content-Length %q, body is %d bytes", cl, rec.Body.Len())
			}
			if res.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Error("X-Content-Type-Options: nosniff missing")
			}
			got := decode(t, rec.Body.Bytes())
			if g, w := mustJSON(t, got), mustJSON(t, tt.want); g != w {
				t.Errorf("document %s, want %s", g, w)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestWriteRemovesRepresentationHeaders(t *testing.T) {
	rec := httptest.NewRecorder()
	h := rec.Header()
	h.Set("Content-Encoding", "gzip")
	h.Set("ETag", `"abc"`)
	h.Set("Last-Modified", "Mon, 02 Jan 2006 15:04:05 GMT")
	h.Set("Content-Type", "text/html")
	problem.Write(rec, httptest.NewRequest(http.MethodGet, "/", nil), problem.Details{Status: 406})
	for _, k := range []string{"Content-Encoding", "ETag", "Last-Modified"} {
		if v := rec.Header().Get(k); v != "" {
			t.Errorf("%s: %q kept on the problem response", k, v)
		}
	}
}

func TestWriteSendsNoBodyForHEAD(t *testing.T) {
	rec := httptest.NewRecorder()
	problem.Write(rec, httptest.NewRequest(http.MethodHead, "/", nil), problem.Details{Status: 409, Detail: "conflict"})
	body := problem.Marshal(nil, problem.Details{Status: 409, Detail: "conflict"})
	if rec.Code != 409 || rec.Body.Len() != 0 {
		t.Errorf("HEAD: status %d, %d body bytes; want 409 and none", rec.Code, rec.Body.Len())
	}
	// The headers are those of the GET response (RFC 9110 §9.3.2).
	if cl := rec.Header().Get("Content-Length"); cl != strconv.Itoa(len(body)) {
		t.Errorf("HEAD Content-Length %q, want %d", cl, len(body))
	}
}

func TestTraceIDComesFromContext(t *testing.T) {
	tests := []struct {
		desc string
		ctx  traceid.Carrier // nil: none
		ext  map[string]any
		want any // nil: no trace_id member
	}{
		{"no carrier", nil, nil, nil},
		{"empty id", traceID(""), nil, nil},
		{"id", traceID("4bf92f3577b34da6a3ce929d0e0e4736"), nil, "4bf92f3577b34da6a3ce929d0e0e4736"},
		{"context wins over an extension", traceID("ctx"), map[string]any{"trace_id": "ext"}, "ctx"},
		{"extension kept without a context id", nil, map[string]any{"trace_id": "ext"}, "ext"},
		{"hostile id is escaped", traceID(`"}</script>`), nil, `"}</script>`},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if tt.ctx != nil {
				r = r.WithContext(traceid.With(r.Context(), tt.ctx))
			}
			rec := httptest.NewRecorder()
			problem.Write(rec, r, problem.Details{Status: 400, Extensions: tt.ext})
			got := decode(t, rec.Body.Bytes())["trace_id"]
			if got != tt.want {
				t.Errorf("trace_id %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMarshalWithoutRequest(t *testing.T) {
	got := decode(t, problem.Marshal(nil, problem.Details{Status: 404}))
	if got["title"] != "Not Found" || got["trace_id"] != nil {
		t.Errorf("Marshal(nil, 404) = %v", got)
	}
}

// injection holds request data an attacker controls, placed in detail and
// instance: the document stays valid JSON and decodes back to the same text.
var injectionTests = []string{
	`", "status": 200, "x": "`,
	`\", \"type\": \"evil`,
	`</script><script>alert(1)</script>`,
	"<!-- --> & ' \" \\ /",
	"line\nbreak\r\ttab\x00nul\x1b[31m\x7f",
	"\u2028\u2029 separators",
	"emoji 🎉 and ünïcödé",
	"}]}{[",
	strings.Repeat(`"\`, 100),
}

func TestInjectionInDetailAndInstanceStaysInside(t *testing.T) {
	for _, s := range injectionTests {
		checkRoundTrip(t, s)
	}
}

func TestInvalidUTF8BecomesReplacementCharacter(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a\xffb", "a\uFFFDb"},
		{"\xc3\x28", "\uFFFD("},
		{"\xed\xa0\x80", "\uFFFD\uFFFD\uFFFD"}, // a UTF-16 surrogate
		{"ok\xe2\x82", "ok\uFFFD\uFFFD"},       // one per invalid byte, as encoding/json does
	}
	for _, tt := range tests {
		b := problem.Marshal(nil, problem.Details{Status: 400, Detail: tt.in, Instance: tt.in})
		got := decode(t, b)
		if got["detail"] != tt.want || got["instance"] != tt.want {
			t.Errorf("detail %q, instance %q; want %q", got["detail"], got["instance"], tt.want)
		}
	}
}

// checkRoundTrip writes s as detail and instance and checks what a client
// decodes, and that no raw markup reaches the body.
func checkRoundTrip(t *testing.T, s string) {
	t.Helper()
	rec := httptest.NewRecorder()
	problem.Write(rec, httptest.NewRequest(http.MethodGet, "/", nil), problem.Details{Status: 422, Detail: s, Instance: s})
	body := rec.Body.Bytes()
	got := decode(t, body)
	want := string([]rune(s)) // U+FFFD for each invalid byte
	if want != "" && (got["detail"] != want || got["instance"] != want) {
		t.Fatalf("detail %q, instance %q; want %q", got["detail"], got["instance"], want)
	}
	if got["status"] != json.Number("422") || got["type"] != "about:blank" || len(got) > 5 {
		t.Fatalf("request data changed the members: %s", body)
	}
	if bytes.ContainsAny(body[:len(body)-1], "<>&\u2028\u2029\n\r\x00") {
		t.Fatalf("body carries raw markup or control characters: %q", body)
	}
	if !utf8.Valid(body) {
		t.Fatalf("body is not UTF-8: %q", body)
	}
}

func FuzzMarshal(f *testing.F) {
	for _, s := range injectionTests {
		f.Add(s, "k")
	}
	f.Add("a\xffb", "trace_id")
	f.Fuzz(func(t *testing.T, s, key string) {
		checkRoundTrip(t, s)
		// Any extension key: never breaks the document nor a standard member.
		got := decode(t, problem.Marshal(nil, problem.Details{Status: 400, Detail: "d", Extensions: map[string]any{key: s}}))
		if got["detail"] != "d" || got["status"] != json.Number("400") || got["title"] != "Bad Request" || got["type"] != "about:blank" {
			t.Fatalf("extension %q=%q changed the members: %v", key, s, got)
		}
	})
}
