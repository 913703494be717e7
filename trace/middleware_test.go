package trace_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.uber.org/goleak"

	"github.com/jiec/httpmw/internal/problem"
	"github.com/jiec/httpmw/trace"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// seen is what the handler observed.
type seen struct {
	id     string
	sc     trace.SpanContext
	ok     bool
	header http.Header // response header map at handler entry
}

// run sends r through mw and returns what the handler saw and the response.
func run(t *testing.T, mw func(http.Handler) http.Handler, r *http.Request) (seen, *httptest.ResponseRecorder) {
	t.Helper()
	var s seen
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.id = trace.ID(r.Context())
		s.sc, s.ok = trace.FromContext(r.Context())
		s.header = w.Header().Clone()
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if !s.ok {
		t.Fatal("FromContext: no span context in the handler")
	}
	return s, rec
}

func newMW(t *testing.T, cfg trace.Config) func(http.Handler) http.Handler {
	t.Helper()
	m, err := trace.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m.Handler
}

func req(headers ...string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Add(headers[i], headers[i+1])
	}
	return r
}

// TestGeneratesTraceIDByDefault: the generated id is the W3C trace-id in 32
// lowercase hex digits (issue 12: searchable as-is in a tracing backend), of
// a sampled trace with the random flag.
func TestGeneratesTraceIDByDefault(t *testing.T) {
	s, rec := run(t, trace.Handler, req())
	if len(s.id) != 32 || strings.Trim(s.id, "0123456789abcdef") != "" {
		t.Fatalf("id %q: want 32 lowercase hex digits", s.id)
	}
	if s.sc.TraceID.String() != s.id {
		t.Errorf("trace-id %s is not the id %s", s.sc.TraceID, s.id)
	}
	if got := rec.Header().Get("X-Trace-Id"); got != s.id {
		t.Errorf("X-Trace-Id echo = %q, want %q", got, s.id)
	}
	if s.sc.Flags != trace.FlagRandom|trace.FlagSampled {
		t.Errorf("flags = %02x, want random and sampled", s.sc.Flags)
	}
	if s.sc.SpanID.IsZero() || s.sc.IsRemote() {
		t.Errorf("span context %+v: want a span id and no parent", s.sc)
	}
}

// TestGeneratedTraceIDLayout: bytes 0-5 are the Unix time in milliseconds,
// so ids sort by creation time to the millisecond.
func TestGeneratedTraceIDLayout(t *testing.T) {
	before := time.Now().UnixMilli()
	var prev int64
	for range 200 {
		s, _ := run(t, trace.Handler, req())
		u := s.sc.TraceID
		ms := int64(u[0])<<40 | int64(u[1])<<32 | int64(u[2])<<24 | int64(u[3])<<16 | int64(u[4])<<8 | int64(u[5])
		if after := time.Now().UnixMilli(); ms < before || ms > after {
			t.Fatalf("id %q: timestamp %d ms outside [%d, %d]", s.id, ms, before, after)
		}
		if ms < prev {
			t.Fatalf("id %q: timestamp %d before the previous id's %d", s.id, ms, prev)
		}
		prev = ms
	}
}

// TestGeneratedTraceIDBytesAreUniform: every bit of bytes 6-15 is set in
// about half of the ids (a UUID's version and variant bits would be fixed),
// which ratio samplers (bytes 8-15) and the random flag (bytes 9-15) need.
// 4000 ids: a fair bit lies within 2000 ± 240 (5.4 sigma).
func TestGeneratedTraceIDBytesAreUniform(t *testing.T) {
	const n = 4000
	var ones [80]int
	for range n {
		s, _ := run(t, trace.Handler, req())
		for bit := range ones {
			if s.sc.TraceID[6+bit/8]&(0x80>>(bit%8)) != 0 {
				ones[bit]++
			}
		}
	}
	for bit, c := range ones {
		if c < n/2-240 || c > n/2+240 {
			t.Errorf("byte %d bit %d set in %d of %d ids", 6+bit/8, bit%8, c, n)
		}
	}
}

func TestGeneratesUUIDv4WhenConfigured(t *testing.T) {
	s, _ := run(t, newMW(t, trace.Config{UUIDVersion: 4}), req())
	u, err := uuid.Parse(s.id)
	if err != nil || u.Version() != 4 {
		t.Errorf("id %q: want a UUIDv4 (%v)", s.id, err)
	}
	// The UUID is a request id; the trace-id is generated beside it.
	if s.sc.TraceID == trace.TraceID(u) || !s.sc.Flags.Random() {
		t.Errorf("trace-id %s (flags %02x): want a random one, not the UUID", s.sc.TraceID, s.sc.Flags)
	}
}

func TestGeneratedIDsDiffer(t *testing.T) {
	a, _ := run(t, trace.Handler, req())
	b, _ := run(t, trace.Handler, req())
	if a.id == b.id || a.sc.SpanID == b.sc.SpanID {
		t.Errorf("two requests share ids: %q %q", a.id, b.id)
	}
}

// TestGeneratedUUIDv7Layout (UUIDVersion 7) checks RFC 9562 §5.7: the first 48 bits are the
// Unix time in milliseconds, then version 7 and variant 10; ids made one after
// the other are in order (google/uuid's sub-millisecond counter, §6.2 method 3),
// which keeps log search by id in time order.
func TestGeneratedUUIDv7Layout(t *testing.T) {
	before := time.Now().UnixMilli()
	var prev string
	mw := newMW(t, trace.Config{UUIDVersion: 7})
	for range 200 {
		s, _ := run(t, mw, req())
		u, err := uuid.Parse(s.id)
		if err != nil || u.Version() != 7 || u.Variant() != uuid.RFC4122 {
			t.Fatalf("id %q: want an RFC 9562 UUIDv7 (%v)", s.id, err)
		}
		ms := int64(u[0])<<40 | int64(u[1])<<32 | int64(u[2])<<24 | int64(u[3])<<16 | int64(u[4])<<8 | int64(u[5])
		if after := time.Now().UnixMilli(); ms < before || ms > after {
			t.Fatalf("id %q: timestamp %d ms outside [%d, %d]", s.id, ms, before, after)
		}
		if s.id <= prev {
			t.Fatalf("id %q generated after %q: not in time order", s.id, prev)
		}
		prev = s.id
	}
}

func TestGeneratedIDsAreUniqueAcrossGoroutines(t *testing.T) {
	var mu sync.Mutex
	ids := make(map[string]bool)
	h := trace.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		id := trace.ID(r.Context())
		if ids[id] {
			t.Errorf("id %q generated twice", id)
		}
		ids[id] = true
	}))
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 500 {
				h.ServeHTTP(httptest.NewRecorder(), req())
			}
		})
	}
	wg.Wait()
	if len(ids) != 2000 {
		t.Errorf("%d ids for 2000 requests", len(ids))
	}
}

func TestCustomGenerator(t *testing.T) {
	cases := []struct {
		desc      string
		gen       string
		wantID    string // "" means a generated id replaced it
		wantTrace string // trace-id hex, "" means random
	}{
		{"valid id is used", "req-42", "req-42", ""},
		{"32 hex id gives the trace-id", "0190B4A59C7E7D438A2B3F5E6D7C8B9A", "0190B4A59C7E7D438A2B3F5E6D7C8B9A", "0190b4a59c7e7d438a2b3f5e6d7c8b9a"},
		{"UUID id is not the trace-id", "0190b4a5-9c7e-7d43-8a2b-3f5e6d7c8b9a", "0190b4a5-9c7e-7d43-8a2b-3f5e6d7c8b9a", ""},
		{"invalid id is replaced", "bad id", "", ""},
		{"empty id is replaced", "", "", ""},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			s, _ := run(t, newMW(t, trace.Config{NewID: func() string { return c.gen }}), req())
			switch {
			case c.wantID != "" && s.id != c.wantID:
				t.Errorf("id = %q, want %q", s.id, c.wantID)
			case c.wantID == "" && s.id != s.sc.TraceID.String():
				t.Errorf("id = %q, want the generated trace-id %s", s.id, s.sc.TraceID)
			}
			if c.wantTrace == "" && strings.Contains(strings.ToLower(strings.ReplaceAll(c.gen, "-", "")), s.sc.TraceID.String()) {
				t.Errorf("trace-id %s taken from %q", s.sc.TraceID, c.gen)
			}
			if c.wantTrace != "" && s.sc.TraceID.String() != c.wantTrace {
				t.Errorf("trace-id = %s, want %s", s.sc.TraceID, c.wantTrace)
			}
			if s.sc.TraceID.IsZero() {
				t.Error("zero trace-id")
			}
		})
	}
}

func TestIncomingIDValidation(t *testing.T) {
	cases := []struct {
		desc string
		id   string
		ok   bool
	}{
		{"uuid", "0190b4a5-9c7e-7d43-8a2b-3f5e6d7c8b9a", true},
		{"one character", "a", true},
		{"128 characters", strings.Repeat("a", 128), true},
		{"all allowed characters", "AZaz09-_.:", true},
		{"nginx 32 hex", "4bf92f3577b34da6a3ce929d0e0e4736", true},
		{"empty", "", false},
		{"129 characters", strings.Repeat("a", 129), false},
		{"space", "a b", false},
		{"tab", "a\tb", false},
		{"quote", `a"b`, false},
		{"comma", "a,b", false},
		{"slash", "a/b", false},
		{"plus (base64)", "a+b=", false},
		{"braces", "{a}", false},
		{"right-to-left override", "a\u202eb", false},
		{"non-ASCII", "caf\xc3\xa9", false},
		{"DEL", "a\x7f", false},
		{"log forging", "a\nlevel=ERROR", false},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			s, rec := run(t, trace.Handler, req("X-Trace-Id", c.id))
			echo := rec.Header().Get("X-Trace-Id")
			if c.ok {
				if s.id != c.id || echo != c.id {
					t.Errorf("id = %q, echo = %q, want %q", s.id, echo, c.id)
				}
				return
			}
			if s.id == c.id || echo == c.id {
				t.Errorf("invalid id %q was used", c.id)
			}
			if _, err := uuid.Parse(echo); err != nil {
				t.Errorf("echo = %q, want a generated UUID", echo)
			}
		})
	}
}

func TestAcceptsRequestIDAndEchoesBoth(t *testing.T) {
	s, rec := run(t, trace.Handler, req("X-Request-Id", "abc-123"))
	if s.id != "abc-123" {
		t.Errorf("id = %q, want abc-123", s.id)
	}
	if rec.Header().Get("X-Trace-Id") != "abc-123" || rec.Header().Get("X-Request-Id") != "abc-123" {
		t.Errorf("echo = %v, want both headers", rec.Header())
	}
}

func TestPrefersHeaderOverAlsoAccept(t *testing.T) {
	s, rec := run(t, trace.Handler, req("X-Request-Id", "from-request-id", "X-Trace-Id", "from-trace-id"))
	if s.id != "from-trace-id" {
		t.Errorf("id = %q, want from-trace-id", s.id)
	}
	if got := rec.Header().Get("X-Request-Id"); got != "" {
		t.Errorf("X-Request-Id echoed %q though not used", got)
	}
}

func TestInvalidHeaderFallsBackToAlsoAccept(t *testing.T) {
	s, _ := run(t, trace.Handler, req("X-Trace-Id", "bad id", "X-Request-Id", "good"))
	if s.id != "good" {
		t.Errorf("id = %q, want good", s.id)
	}
}

func TestRepeatedIDHeaderIsIgnored(t *testing.T) {
	s, _ := run(t, trace.Handler, req("X-Trace-Id", "one", "X-Trace-Id", "two"))
	if s.id == "one" || s.id == "two" {
		t.Errorf("id = %q taken from an ambiguous header", s.id)
	}
}

func TestAlsoAcceptEmptyDisablesRequestID(t *testing.T) {
	s, _ := run(t, newMW(t, trace.Config{AlsoAccept: []string{}}), req("X-Request-Id", "abc"))
	if s.id == "abc" {
		t.Error("X-Request-Id used with AlsoAccept empty")
	}
}

func TestCustomHeaderName(t *testing.T) {
	mw := newMW(t, trace.Config{Header: "x-correlation-id", AlsoAccept: []string{"x-amzn-trace-id"}})
	s, rec := run(t, mw, req("X-Correlation-Id", "corr-1"))
	if s.id != "corr-1" || rec.Header().Get("X-Correlation-Id") != "corr-1" {
		t.Errorf("id %q, header %v", s.id, rec.Header())
	}
	if rec.Header().Get("X-Trace-Id") != "" {
		t.Error("default header echoed with a custom Header")
	}
}

func TestTrustIncomingFalseRestarts(t *testing.T) {
	// SampleNone: the flag is this service's policy (sampled by default
	// since issue 12), never the untrusted caller's "-01".
	mw := newMW(t, trace.Config{Sampling: trace.SampleNone, TrustIncoming: func(*http.Request) bool { return false }})
	s, rec := run(t, mw, req("X-Trace-Id", "client-id", "Traceparent", tp, "Tracestate", "foo=1"))
	if s.id == "client-id" || rec.Header().Get("X-Trace-Id") == "client-id" {
		t.Error("untrusted client id used")
	}
	if s.sc.TraceID.String() == tid || s.sc.IsRemote() || s.sc.TraceState != "" {
		t.Errorf("untrusted trace context continued: %+v", s.sc)
	}
	if s.sc.Flags.Sampled() {
		t.Error("untrusted caller chose the sampled flag")
	}
}

func TestTrustIncomingPerRequest(t *testing.T) {
	mw := newMW(t, trace.Config{TrustIncoming: func(r *http.Request) bool { return r.Header.Get("X-Internal") == "1" }})
	s, _ := run(t, mw, req("X-Trace-Id", "client-id", "X-Internal", "1"))
	if s.id != "client-id" {
		t.Errorf("trusted request: id = %q", s.id)
	}
}

// TestHexIDIsTheTraceID: an incoming id of 32 hex digits (the form this
// package generates, nginx's $request_id) is the trace-id of the trace
// started here. UUIDs are no longer taken (issue 12): their version and
// variant bits would make ratio samplers downstream sample all or nothing.
func TestHexIDIsTheTraceID(t *testing.T) {
	cases := []struct {
		desc, id string
		taken    bool
	}{
		{"32 hex", "0190b4a59c7e7d438a2b3f5e6d7c8b9a", true},
		{"32 hex uppercase", "0190B4A59C7E7D438A2B3F5E6D7C8B9A", true},
		{"canonical UUID", "0190b4a5-9c7e-7d43-8a2b-3f5e6d7c8b9a", false},
		{"all zero", "00000000000000000000000000000000", false},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			s, _ := run(t, trace.Handler, req("X-Trace-Id", c.id))
			if s.id != c.id {
				t.Errorf("id = %q, want %q", s.id, c.id)
			}
			got := s.sc.TraceID.String()
			if taken := got == "0190b4a59c7e7d438a2b3f5e6d7c8b9a"; taken != c.taken {
				t.Errorf("trace-id = %s, taken from the id: %v, want %v", got, taken, c.taken)
			}
			if s.sc.TraceID.IsZero() || s.sc.Flags.Random() == c.taken {
				t.Errorf("trace-id %s flags %02x: random flag only on a trace-id made here", got, s.sc.Flags)
			}
		})
	}
}

func TestNilUUIDIDGetsRandomTraceID(t *testing.T) {
	s, _ := run(t, trace.Handler, req("X-Trace-Id", "00000000-0000-0000-0000-000000000000"))
	if s.sc.TraceID.IsZero() {
		t.Error("all-zero trace-id")
	}
	if s.id != "00000000-0000-0000-0000-000000000000" {
		t.Errorf("id = %q; the id itself is valid", s.id)
	}
}

func TestNonUUIDIDGetsRandomTraceID(t *testing.T) {
	s, _ := run(t, trace.Handler, req("X-Request-Id", "abc"))
	if s.sc.TraceID.IsZero() || !s.sc.Flags.Random() {
		t.Errorf("span context %+v: want a random trace-id", s.sc)
	}
}

func TestValidTraceparentContinuesTrace(t *testing.T) {
	s, _ := run(t, trace.Handler, req("Traceparent", tp, "Tracestate", "foo=1,bar=2"))
	if s.sc.TraceID.String() != tid {
		t.Errorf("trace-id = %s, want %s", s.sc.TraceID, tid)
	}
	if s.sc.ParentID.String() != pid || !s.sc.IsRemote() {
		t.Errorf("parent-id = %s, want %s", s.sc.ParentID, pid)
	}
	if s.sc.SpanID.IsZero() || s.sc.SpanID == s.sc.ParentID {
		t.Errorf("span id %s: want a new one", s.sc.SpanID)
	}
	if !s.sc.Flags.Sampled() {
		t.Error("caller's sampled flag lost")
	}
	if s.sc.TraceState != "foo=1,bar=2" {
		t.Errorf("tracestate = %q", s.sc.TraceState)
	}
	if s.id != tid {
		t.Errorf("id = %q, want the trace-id %s", s.id, tid)
	}
}

func TestTraceparentHeaderNameIsCaseInsensitive(t *testing.T) {
	r := req()
	r.Header.Set("TrAcEpArEnT", tp) // servers canonicalize field names
	s, _ := run(t, trace.Handler, r)
	if s.sc.TraceID.String() != tid {
		t.Errorf("trace-id = %s", s.sc.TraceID)
	}
}

func TestIDHeaderAndTraceparentBothKept(t *testing.T) {
	s, rec := run(t, trace.Handler, req("X-Trace-Id", "client-id", "Traceparent", tp))
	if s.id != "client-id" || rec.Header().Get("X-Trace-Id") != "client-id" {
		t.Errorf("id = %q", s.id)
	}
	if s.sc.TraceID.String() != tid {
		t.Errorf("trace-id = %s, want traceparent's", s.sc.TraceID)
	}
}

func TestInvalidTraceparentRestartsAndDropsTraceState(t *testing.T) {
	for _, c := range traceparentCases {
		if c.ok {
			continue
		}
		t.Run(c.desc, func(t *testing.T) {
			r := req("Tracestate", "foo=1")
			for _, v := range c.values {
				r.Header.Add("Traceparent", v)
			}
			s, _ := run(t, trace.Handler, r)
			if s.sc.TraceID.IsZero() || s.sc.IsRemote() {
				t.Errorf("span context %+v: want a new root", s.sc)
			}
			if strings.Contains(strings.Join(c.values, ""), s.sc.TraceID.String()) {
				t.Error("trace-id taken from an invalid traceparent")
			}
			if s.sc.TraceState != "" {
				t.Errorf("tracestate %q kept without a valid traceparent", s.sc.TraceState)
			}
		})
	}
}

func TestTraceStateWithoutTraceparentIsDropped(t *testing.T) {
	s, _ := run(t, trace.Handler, req("Tracestate", "foo=1"))
	if s.sc.TraceState != "" {
		t.Errorf("tracestate = %q", s.sc.TraceState)
	}
}

func TestInvalidTraceStateKeepsTraceparent(t *testing.T) {
	s, _ := run(t, trace.Handler, req("Traceparent", tp, "Tracestate", "FOO=1"))
	if s.sc.TraceID.String() != tid || s.sc.TraceState != "" {
		t.Errorf("span context %+v", s.sc)
	}
}

func TestTraceStateLimitConfig(t *testing.T) {
	long := "a=" + strings.Repeat("x", 100) + ",b=" + strings.Repeat("y", 100) + "," +
		"c=" + strings.Repeat("z", 100) + ",d=" + strings.Repeat("w", 100) + ",e=" + strings.Repeat("v", 100)
	s, _ := run(t, trace.Handler, req("Traceparent", tp, "Tracestate", long))
	if len(s.sc.TraceState) > trace.DefaultTraceStateLimit || !strings.HasPrefix(s.sc.TraceState, "a=") {
		t.Errorf("default limit: tracestate of %d bytes", len(s.sc.TraceState))
	}
	s, _ = run(t, newMW(t, trace.Config{TraceStateLimit: 1024}), req("Traceparent", tp, "Tracestate", long))
	if s.sc.TraceState != long {
		t.Errorf("limit 1024: tracestate of %d bytes, want %d", len(s.sc.TraceState), len(long))
	}
}

// TestSampling: traces started here are sampled by default (issue 12: an
// unsampled default switched recording off in parent-based downstream
// samplers); continued traces keep the caller's decision.
func TestSampling(t *testing.T) {
	unsampled := "00-" + tid + "-" + pid + "-00"
	cases := []struct {
		desc string
		cfg  trace.Config
		r    *http.Request
		want bool
	}{
		{"default samples new traces", trace.Config{}, req(), true},
		{"default samples traces of a client id", trace.Config{}, req("X-Request-Id", "abc"), true},
		{"default keeps the caller's unsampled flag", trace.Config{}, req("Traceparent", unsampled), false},
		{"default keeps the caller's sampled flag", trace.Config{}, req("Traceparent", tp), true},
		{"none", trace.Config{Sampling: trace.SampleNone}, req(), false},
		{"none keeps the caller's sampled flag", trace.Config{Sampling: trace.SampleNone}, req("Traceparent", tp), true},
		{"ratio 1", trace.Config{Sampling: trace.SampleRatio, Ratio: 1}, req(), true},
		{"ratio 0", trace.Config{Sampling: trace.SampleRatio, Ratio: 0}, req(), false},
		{"ratio reads bytes 8-15: low", trace.Config{Sampling: trace.SampleRatio, Ratio: 0.5}, req("X-Trace-Id", "ffffffffffffffff3fffffffffffffff"), true},
		{"ratio reads bytes 8-15: high", trace.Config{Sampling: trace.SampleRatio, Ratio: 0.5}, req("X-Trace-Id", "00000000000000008000000000000000"), false},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			s, _ := run(t, newMW(t, c.cfg), c.r)
			if s.sc.Flags.Sampled() != c.want {
				t.Errorf("sampled = %v, want %v", s.sc.Flags.Sampled(), c.want)
			}
		})
	}
}

// TestSampleRatioFraction: over 20,000 generated ids the sampled share is
// within 2 percentage points of the ratio.
func TestSampleRatioFraction(t *testing.T) {
	for _, ratio := range []float64{0.1, 0.5, 0.9} {
		mw := newMW(t, trace.Config{Sampling: trace.SampleRatio, Ratio: ratio})
		n := 0
		const total = 20000
		for range total {
			if s, _ := run(t, mw, req()); s.sc.Flags.Sampled() {
				n++
			}
		}
		if got := float64(n) / total; got < ratio-0.02 || got > ratio+0.02 {
			t.Errorf("ratio %v: sampled %.4f", ratio, got)
		}
	}
}

// TestPassThroughForwardsTraceparent: with PassThrough the caller's
// parent-id and flags go downstream unchanged.
func TestPassThroughForwardsTraceparent(t *testing.T) {
	mw := newMW(t, trace.Config{PassThrough: true})
	s, _ := run(t, mw, req("Traceparent", tp, "Tracestate", "foo=1"))
	if s.sc.SpanID.String() != pid || s.sc.ParentID.String() != pid || s.sc.TraceID.String() != tid {
		t.Errorf("span context %+v: want the caller's ids", s.sc)
	}
	if got := s.sc.Traceparent(); got != tp {
		t.Errorf("forwarded traceparent %q, want %q", got, tp)
	}
	s, _ = run(t, mw, req())
	if s.sc.SpanID.IsZero() || !s.sc.Flags.Sampled() {
		t.Errorf("new trace with PassThrough: %+v", s.sc)
	}
}

// TestServerTiming: the response carries this hop's trace context as the
// Level 2 editor's draft defines it (a Server-Timing "trace" metric), not a
// bare traceparent response header (replaced ResponseTraceparent, issue 12).
func TestServerTiming(t *testing.T) {
	mw := newMW(t, trace.Config{ServerTiming: true})
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Server-Timing", "db;dur=53")
	}))
	rec := httptest.NewRecorder()
	r := req("Traceparent", "cc-"+tid+"-"+pid+"-ff-x")
	r.Header.Set("X-Want", "1")
	var sc trace.SpanContext
	mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sc, _ = trace.FromContext(r.Context())
		h.ServeHTTP(w, r)
	})).ServeHTTP(rec, r)
	want := []string{"trace;desc=00-" + tid + "-" + sc.SpanID.String() + "-03", "db;dur=53"}
	if got := rec.Header().Values("Server-Timing"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Server-Timing = %q, want %q", got, want)
	}
	if rec.Header().Get("Traceparent") != "" {
		t.Error("traceparent response header sent")
	}
	_, rec = run(t, trace.Handler, req())
	if got := rec.Header().Get("Server-Timing"); got != "" {
		t.Errorf("Server-Timing %q sent by default", got)
	}
	_, rec = run(t, newMW(t, trace.Config{ServerTiming: true, PassThrough: true}), req("Traceparent", tp))
	if got := rec.Header().Get("Server-Timing"); got != "" {
		t.Errorf("PassThrough: Server-Timing %q names a span this hop does not have", got)
	}
}

func TestHeadersAreSetBeforeNext(t *testing.T) {
	s, _ := run(t, newMW(t, trace.Config{ServerTiming: true}), req("X-Request-Id", "abc"))
	for _, name := range []string{"X-Trace-Id", "X-Request-Id", "Server-Timing"} {
		if s.header.Get(name) == "" {
			t.Errorf("%s not set when next runs", name)
		}
	}
}

func TestInnerMiddlewareAnswerKeepsID(t *testing.T) {
	// An inner middleware that answers by itself (e.g. rate limiting).
	deny := func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			problem.Write(w, r, problem.Details{Status: http.StatusTooManyRequests})
		})
	}
	h := trace.Handler(deny(nil))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req("X-Trace-Id", "abc"))
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("X-Trace-Id") != "abc" {
		t.Fatalf("status %d, X-Trace-Id %q", rec.Code, rec.Header().Get("X-Trace-Id"))
	}
	// trace_id names the W3C trace-id, as in the logs (issue 12); the
	// client's id is in X-Trace-Id.
	var body struct {
		TraceID string `json:"trace_id"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || len(body.TraceID) != 32 || body.TraceID == "abc" {
		t.Errorf("problem+json trace_id = %q (%v), want the 32-hex trace-id", body.TraceID, err)
	}
}

func TestStackedMiddlewareReusesOuterID(t *testing.T) {
	outer := newMW(t, trace.Config{})
	inner := newMW(t, trace.Config{Header: "X-Correlation-Id"})
	var inside string
	var innerSC trace.SpanContext
	var outerSC trace.SpanContext
	h := outer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		outerSC, _ = trace.FromContext(r.Context())
		inner(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			inside = trace.ID(r.Context())
			innerSC, _ = trace.FromContext(r.Context())
		})).ServeHTTP(w, r)
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req())
	if got := rec.Header().Get("X-Trace-Id"); got == "" || got != inside {
		t.Errorf("outer id %q, inner id %q", got, inside)
	}
	if got := rec.Header().Get("X-Correlation-Id"); got != inside {
		t.Errorf("inner header %q, want %q", got, inside)
	}
	if innerSC != outerSC {
		t.Errorf("span context changed: %+v vs %+v", innerSC, outerSC)
	}
}

func TestContextOutsideRequest(t *testing.T) {
	if id := trace.ID(context.Background()); id != "" {
		t.Errorf("ID = %q", id)
	}
	if _, ok := trace.FromContext(context.Background()); ok {
		t.Error("FromContext ok outside a request")
	}
}

type ctxKey struct{}

func TestRequestContextKeepsParentBehaviour(t *testing.T) {
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "v"))
	r := req().WithContext(parent)
	var got any
	var child context.Context
	var childCancel context.CancelFunc
	h := trace.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Context().Value(ctxKey{})
		child, childCancel = context.WithCancel(r.Context())
	}))
	h.ServeHTTP(httptest.NewRecorder(), r)
	defer childCancel()
	if got != "v" {
		t.Errorf("parent value = %v", got)
	}
	cancel()
	<-child.Done() // cancellation reaches contexts derived in the handler
	if !errors.Is(child.Err(), context.Canceled) {
		t.Errorf("child.Err() = %v", child.Err())
	}
	if trace.ID(child) == "" {
		t.Error("derived context lost the id")
	}
}

func TestNewValidatesConfig(t *testing.T) {
	cases := []struct {
		desc string
		cfg  trace.Config
		want []string
	}{
		{"header not a token", trace.Config{Header: "X Trace"}, []string{`trace: Header: not a valid header name (value "X Trace")`}},
		{"header reserved", trace.Config{Header: "traceparent"}, []string{`trace: Header: reserved for W3C Trace Context (value "traceparent")`}},
		{"also accept invalid", trace.Config{AlsoAccept: []string{"a:b"}}, []string{`trace: AlsoAccept: not a valid header name (value "a:b")`}},
		{"also accept reserved", trace.Config{AlsoAccept: []string{"Tracestate"}}, []string{`trace: AlsoAccept: reserved`}},
		{"also accept duplicate", trace.Config{AlsoAccept: []string{"x-trace-id"}}, []string{`trace: AlsoAccept: duplicate header name (value "X-Trace-Id")`}},
		{"uuid version", trace.Config{UUIDVersion: 5}, []string{`trace: UUIDVersion: must be 0, 4 or 7 (value "5")`}},
		{"ratio out of range", trace.Config{Sampling: trace.SampleRatio, Ratio: 1.5}, []string{`trace: Ratio: must be between 0 and 1 (value "1.5")`}},
		{"ratio NaN", trace.Config{Sampling: trace.SampleRatio, Ratio: math.NaN()}, []string{`trace: Ratio: must be between 0 and 1 (value "NaN")`}},
		{"ratio without SampleRatio", trace.Config{Ratio: 0.5}, []string{`trace: Ratio: set without Sampling SampleRatio (value "0.5")`}},
		{"unknown sampling", trace.Config{Sampling: 9}, []string{`trace: Sampling: unknown policy (value "9")`}},
		{"log keys equal", trace.Config{LogKeys: trace.LogKeys{SpanID: "trace_id"}}, []string{`trace: LogKeys: keys must differ`}},
		{"tracestate limit low", trace.Config{TraceStateLimit: 100}, []string{`trace: TraceStateLimit: must be between 512 and 8192 (value "100")`}},
		{"tracestate limit high", trace.Config{TraceStateLimit: 10000}, []string{`TraceStateLimit`}},
		{"all reported together", trace.Config{Header: "X Trace", UUIDVersion: 1, TraceStateLimit: -1}, []string{"Header", "UUIDVersion", "TraceStateLimit"}},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			m, err := trace.New(c.cfg)
			if err == nil || m != nil {
				t.Fatalf("New(%+v) = %v, %v; want an error", c.cfg, m, err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestNewCopiesConfig(t *testing.T) {
	cfg := trace.Config{AlsoAccept: []string{"X-Amzn-Trace-Id"}}
	m, err := trace.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.AlsoAccept[0] = "X-Other"
	s, _ := run(t, m.Handler, req("X-Amzn-Trace-Id", "abc"))
	if s.id != "abc" {
		t.Errorf("id = %q: changing the Config after New had an effect", s.id)
	}
}

func TestLogHandlerAddsTraceAttributes(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(trace.NewLogHandler(slog.NewJSONHandler(&buf, nil)))
	var sc trace.SpanContext
	h := trace.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sc, _ = trace.FromContext(r.Context())
		logger.InfoContext(r.Context(), "in request")
		logger.With("k", "v").InfoContext(r.Context(), "with attrs")
		logger.Info("no context")
	}))
	h.ServeHTTP(httptest.NewRecorder(), req("X-Trace-Id", "abc"))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d lines", len(lines))
	}
	for i, line := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		if i == 2 {
			if _, ok := rec[trace.KeyTraceID]; ok {
				t.Errorf("record without context has trace_id: %s", line)
			}
			continue
		}
		if rec[trace.KeyTraceID] != sc.TraceID.String() || rec[trace.KeySpanID] != sc.SpanID.String() || rec[trace.KeyRequestID] != "abc" {
			t.Errorf("line %d: %s", i, line)
		}
	}
	if !strings.Contains(lines[1], `"k":"v"`) {
		t.Errorf("WithAttrs lost: %s", lines[1])
	}
}

func TestNewLogHandlerDoesNotWrapTwice(t *testing.T) {
	h := trace.NewLogHandler(slog.DiscardHandler)
	if trace.NewLogHandler(h) != h {
		t.Error("NewLogHandler wrapped a LogHandler again")
	}
}

func TestLogHandlerDoesNotTouchSharedRecord(t *testing.T) {
	r := slog.NewRecord(testTime, slog.LevelInfo, "m", 0)
	r.AddAttrs(slog.Int("a", 1), slog.Int("b", 2), slog.Int("c", 3), slog.Int("d", 4), slog.Int("e", 5), slog.Int("f", 6))
	ctx := contextWithTrace(t)
	var n1, n2 int
	h := trace.NewLogHandler(countHandler{&n1})
	if err := h.Handle(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := trace.NewLogHandler(countHandler{&n2}).Handle(ctx, r); err != nil {
		t.Fatal(err)
	}
	if n1 != 9 || n2 != 9 || r.NumAttrs() != 6 {
		t.Errorf("attrs: %d, %d, original %d", n1, n2, r.NumAttrs())
	}
}

// TestNewRejectsHeadersThatBreakResponses: the id is echoed in Header and in
// the AlsoAccept header it came from, and logged; framing, hop-by-hop and
// credential headers would break the message or copy a secret into the
// response and every log line.
func TestNewRejectsHeadersThatBreakResponses(t *testing.T) {
	for _, name := range []string{"Content-Length", "transfer-encoding", "Connection", "Content-Type", "Host", "Set-Cookie", "Cookie", "Authorization", "Proxy-Authorization"} {
		for _, cfg := range []trace.Config{{Header: name}, {AlsoAccept: []string{name}}} {
			field := "Header"
			if cfg.Header == "" {
				field = "AlsoAccept"
			}
			t.Run(field+"="+name, func(t *testing.T) {
				m, err := trace.New(cfg)
				want := "trace: " + field + ": "
				if err == nil || m != nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), `(value "`+name+`")`) {
					t.Errorf("New(%s: %q) = %v, %v; want an error naming the field and value", field, name, m, err)
				}
			})
		}
	}
}

// TestConcurrentRequestsDoNotShareState: a handler that edits the header
// values it finds in place cannot reach other requests or the id in its
// context. Run with -race.
func TestConcurrentRequestsDoNotShareState(t *testing.T) {
	mw := newMW(t, trace.Config{ServerTiming: true})
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := trace.ID(r.Context())
		for _, v := range w.Header() {
			for i := range v {
				v[i] = "clobbered"
			}
		}
		if trace.ID(r.Context()) != id || id == "clobbered" {
			t.Errorf("id changed from %q to %q", id, trace.ID(r.Context()))
		}
	}))
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 50 {
				r := req("X-Request-Id", fmt.Sprintf("req-%d-%d", i, j))
				h.ServeHTTP(httptest.NewRecorder(), r)
			}
		})
	}
	wg.Wait()
	s, rec := run(t, mw, req("X-Request-Id", "last"))
	if s.id != "last" || s.header.Get("X-Trace-Id") != "last" || rec.Header().Get("X-Request-Id") != "last" {
		t.Errorf("after clobbering handlers: id %q, headers %v", s.id, rec.Header())
	}
}

// TestLogHandlerSurvivesWithGroup: Logger.WithGroup must keep the wrapper
// (a handler that returned next.WithGroup would drop the ids from then on).
func TestLogHandlerSurvivesWithGroup(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(trace.NewLogHandler(slog.NewJSONHandler(&buf, nil))).WithGroup("g").With("k", "v")
	logger.InfoContext(contextWithTrace(t), "m")
	var rec struct {
		G map[string]any `json:"g"`
	}
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatal(err)
	}
	if len(fmt.Sprint(rec.G[trace.KeyTraceID])) != 32 || rec.G[trace.KeyRequestID] != "abc" || rec.G["k"] != "v" || rec.G[trace.KeySpanID] == nil {
		t.Errorf("record %s: want trace_id, span_id and k in group g", buf.String())
	}
}
