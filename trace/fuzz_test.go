package trace_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/jiec/httpmw/trace"
)

// traceparentRE is a second, independent reading of the traceparent rules.
var traceparentRE = regexp.MustCompile(`(?s)^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$`)

func referenceTraceparent(v string) bool {
	v = strings.Trim(v, " \t")
	m := traceparentRE.FindStringSubmatch(v)
	if m == nil {
		return false
	}
	if m[1] == "ff" || (m[1] == "00" && m[5] != "") {
		return false
	}
	return strings.Trim(m[2], "0") != "" && strings.Trim(m[3], "0") != ""
}

func FuzzParseTraceparent(f *testing.F) {
	for _, c := range traceparentCases {
		if len(c.values) == 1 {
			f.Add(c.values[0])
		}
	}
	f.Fuzz(func(t *testing.T, v string) {
		sc, err := trace.ParseTraceparent([]string{v})
		if want := referenceTraceparent(v); (err == nil) != want {
			t.Fatalf("ParseTraceparent(%q) error = %v, reference ok = %v", v, err, want)
		}
		if err != nil {
			return
		}
		if sc.TraceID.IsZero() || sc.ParentID.IsZero() || sc.Flags&^(trace.FlagSampled|trace.FlagRandom) != 0 {
			t.Fatalf("ParseTraceparent(%q) = %+v", v, sc)
		}
		// Round trip through the version 00 form.
		sc.SpanID = sc.ParentID
		again, err := trace.ParseTraceparent([]string{sc.Traceparent()})
		if err != nil || again.TraceID != sc.TraceID || again.ParentID != sc.ParentID || again.Flags != sc.Flags {
			t.Fatalf("round trip of %q: %+v, %v", sc.Traceparent(), again, err)
		}
	})
}

func FuzzParseTraceState(f *testing.F) {
	for _, c := range traceStateCases {
		f.Add(strings.Join(c.values, "\x00"), 512)
	}
	f.Fuzz(func(t *testing.T, joined string, limit int) {
		limit = 512 + abs(limit)%8192
		values := strings.Split(joined, "\x00")
		got, err := trace.ParseTraceState(values, limit)
		if err != nil {
			if got != "" {
				t.Fatalf("error %v with result %q", err, got)
			}
			return
		}
		if len(got) > limit {
			t.Fatalf("result of %d bytes over limit %d", len(got), limit)
		}
		// The result is itself valid, canonical and stable.
		again, err := trace.ParseTraceState([]string{got}, limit)
		if err != nil || again != got {
			t.Fatalf("re-parse of %q = %q, %v", got, again, err)
		}
		if got != "" {
			keys := map[string]bool{}
			ms := strings.Split(got, ",")
			if len(ms) > 32 {
				t.Fatalf("%d members", len(ms))
			}
			for _, m := range ms {
				k, _, _ := strings.Cut(m, "=")
				if keys[k] {
					t.Fatalf("duplicate key %q in %q", k, got)
				}
				keys[k] = true
				if m != strings.TrimSpace(m) || m == "" {
					t.Fatalf("member %q not trimmed", m)
				}
			}
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -(n + 1)
	}
	return n
}

// FuzzHexTraceID checks the reading of an incoming 32-hex id as a trace-id
// against encoding/hex.
func FuzzHexTraceID(f *testing.F) {
	f.Add("0190b4a59c7e7d438a2b3f5e6d7c8b9a")
	f.Add("0190B4A59C7E7D438A2B3F5E6D7C8B9A")
	f.Add("00000000000000000000000000000000")
	f.Add("0190b4a5-9c7e-7d43-8a2b-3f5e6d7c8b9a")
	f.Add("0190b4a59c7e7d438a2b3f5e6d7c8b9g")
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := trace.HexTraceID(s)
		b, err := hex.DecodeString(s)
		want := err == nil && len(b) == 16 && strings.Trim(s, "0") != ""
		if ok != want || (ok && !bytes.Equal(got[:], b)) {
			t.Fatalf("HexTraceID(%q) = %x, %v; hex.DecodeString = %x, %v", s, got, ok, b, err)
		}
	})
}

// FuzzIncomingID checks that whatever arrives in the id headers, the echoed
// and logged id is valid, and is the client's only when the client's is valid.
func FuzzIncomingID(f *testing.F) {
	f.Add("abc", "")
	f.Add(strings.Repeat("a", 129), "ok")
	f.Add("a\nb", "a b")
	f.Add("0190b4a5-9c7e-7d43-8a2b-3f5e6d7c8b9a", "")
	h := trace.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	f.Fuzz(func(t *testing.T, traceID, requestID string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header["X-Trace-Id"] = []string{traceID}
		r.Header["X-Request-Id"] = []string{requestID}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		got := rec.Header().Get("X-Trace-Id")
		if !trace.ValidID(got) {
			t.Fatalf("echoed invalid id %q", got)
		}
		switch {
		case trace.ValidID(traceID):
			if got != traceID {
				t.Fatalf("valid X-Trace-Id %q not used: %q", traceID, got)
			}
		case trace.ValidID(requestID):
			if got != requestID || rec.Header().Get("X-Request-Id") != requestID {
				t.Fatalf("valid X-Request-Id %q not used: %q", requestID, got)
			}
		default:
			if got == traceID || got == requestID {
				t.Fatalf("invalid id echoed: %q", got)
			}
		}
	})
}

// FuzzExtract: whatever a message carrier holds, Extract never panics and
// yields a valid id and span context, continuing only a valid traceparent.
func FuzzExtract(f *testing.F) {
	f.Add("job-1", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "rojo=1,congo=2")
	f.Add("", "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff-x", "a=1,a=2")
	f.Add("a b", "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "FOO=1")
	f.Fuzz(func(t *testing.T, id, traceparent, tracestate string) {
		ctx := trace.Extract(context.Background(), trace.MapCarrier{"x-trace-id": id, "traceparent": traceparent, "tracestate": tracestate})
		sc, ok := trace.FromContext(ctx)
		if !ok || !sc.IsValid() || !trace.ValidID(trace.ID(ctx)) {
			t.Fatalf("id %q, span context %+v", trace.ID(ctx), sc)
		}
		_, err := trace.ParseTraceparent([]string{traceparent})
		if continued := sc.IsRemote(); continued != (err == nil && len(traceparent) <= 8192) {
			t.Fatalf("traceparent %q: continued %v, parse error %v", traceparent, continued, err)
		}
		if sc.TraceState != "" && sc.TraceState != strings.TrimSpace(sc.TraceState) {
			t.Fatalf("tracestate %q not normalized", sc.TraceState)
		}
	})
}

// FuzzEncodeHex: the 8-bytes-at-a-time hex encoding of ids writes what
// encoding/hex writes, for every length.
func FuzzEncodeHex(f *testing.F) {
	for _, s := range []string{"", "\x00", "\xff\xfe\x0a\x09", "0123456789abcdef", "\x4b\xf9\x2f\x35\x77\xb3\x4d\xa6\xa3\xce\x92\x9d\x0e\x0e\x47\x36", "\x00\xf0\x67\xaa\x0b\xa9\x02\xb7\x01"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		dst := make([]byte, 2*len(src))
		trace.EncodeHex(dst, src)
		if want := hex.EncodeToString(src); string(dst) != want {
			t.Fatalf("%x: %q, want %q", src, dst, want)
		}
	})
}
