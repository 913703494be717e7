package compress_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jiec/httpmw/compress"
)

// echo answers with what it read from the request body, or 400 on a read
// error, the way a typical JSON handler does.
func echo(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "bad body: "+err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("X-Content-Encoding", r.Header.Get("Content-Encoding"))
	w.Header().Set("X-Content-Length", r.Header.Get("Content-Length"))
	_, _ = w.Write(b)
}

func post(ce string, body []byte) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	if ce != "" {
		r.Header.Set("Content-Encoding", ce)
	}
	return r
}

func TestRequestBodiesAreDecoded(t *testing.T) {
	payload := jsonBody(20 << 10)
	m := newMW(t, compress.Config{DecompressRequests: true})
	cases := []struct {
		desc string
		ce   string
		body []byte
	}{
		{"gzip", "gzip", encode(t, "gzip", payload)},
		{"x-gzip", "x-gzip", encode(t, "gzip", payload)},
		{"br", "br", encode(t, "br", payload)},
		{"zstd", "zstd", encode(t, "zstd", payload)},
		{"deflate (zlib, RFC 9110 §8.4.1.2)", "deflate", encode(t, "deflate", payload)},
		{"chained codings are undone in reverse order", "gzip, br", encode(t, "br", encode(t, "gzip", payload))},
		{"case-insensitive, with identity", "identity, GZIP", encode(t, "gzip", payload)},
		{"identity only", "identity", payload},
	}
	for _, tc := range cases {
		t.Run(tc.desc, func(t *testing.T) {
			rec := do(t, m, echo, post(tc.ce, tc.body))
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if !bytes.Equal(rec.Body.Bytes(), payload) {
				t.Fatalf("handler read %d bytes, want %d", rec.Body.Len(), len(payload))
			}
			if ce := rec.Header().Get("X-Content-Encoding"); ce != "" && tc.ce != "identity" {
				t.Errorf("handler still saw Content-Encoding %q", ce)
			}
		})
	}
}

func TestRequestDecodingIsOffByDefault(t *testing.T) {
	gz := encode(t, "gzip", []byte("hello"))
	rec := do(t, newMW(t, compress.Config{}), echo, post("gzip", gz))
	if !bytes.Equal(rec.Body.Bytes(), gz) || rec.Header().Get("X-Content-Encoding") != "gzip" {
		t.Fatalf("request body was touched")
	}
}

func TestUnknownRequestCodingIs415(t *testing.T) {
	m := newMW(t, compress.Config{DecompressRequests: true})
	for _, ce := range []string{"compress", "snappy", "gzip, gzip, gzip, gzip", "gzip;q=1", `"gzip"`} {
		t.Run(ce, func(t *testing.T) {
			called := false
			rec := do(t, m, func(http.ResponseWriter, *http.Request) { called = true }, post(ce, []byte("x")))
			if called || rec.Code != http.StatusUnsupportedMediaType {
				t.Fatalf("status %d, handler called %v; want 415 without the handler", rec.Code, called)
			}
			// RFC 9110 §15.5.16: say which codings are accepted.
			if ae := rec.Header().Get("Accept-Encoding"); !strings.Contains(ae, "gzip") || !strings.Contains(ae, "zstd") {
				t.Errorf("Accept-Encoding = %q", ae)
			}
			assertProblem(t, rec, http.StatusUnsupportedMediaType)
		})
	}
}

func assertProblem(t *testing.T, rec *httptest.ResponseRecorder, status int) {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json", ct)
	}
	var p struct {
		Status int    `json:"status"`
		Title  string `json:"title"`
		Type   string `json:"type"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Status != status || p.Title == "" {
		t.Fatalf("problem %s: %+v %v", rec.Body, p, err)
	}
}

func TestDecodedRequestLimits(t *testing.T) {
	zeros := make([]byte, 8<<20) // compresses ~1000:1: a small bomb
	text := jsonBody(300 << 10)  // compresses ~10:1
	cases := []struct {
		desc   string
		cfg    compress.Config
		ce     string
		body   []byte
		status int
		err    error
	}{
		{"zip bomb hits the ratio guard", compress.Config{}, "gzip", zeros, 413, compress.ErrRatio},
		{"zstd bomb hits the ratio guard", compress.Config{}, "zstd", zeros, 413, compress.ErrRatio},
		{"br bomb hits the ratio guard", compress.Config{}, "br", zeros, 413, compress.ErrRatio},
		{"nested bomb hits the ratio guard", compress.Config{}, "gzip, gzip", zeros, 413, compress.ErrRatio},
		{"bomb within a generous ratio hits MaxRequestSize", compress.Config{MaxRequestRatio: 100000, MaxRequestSize: 1 << 20}, "gzip", zeros, 413, compress.ErrRequestTooLarge},
		{"normal text passes the default ratio", compress.Config{}, "gzip", text, 200, nil},
		{"normal text over MaxRequestSize", compress.Config{MaxRequestSize: 100 << 10}, "zstd", text, 413, compress.ErrRequestTooLarge},
		{"exactly MaxRequestSize passes", compress.Config{MaxRequestSize: int64(len(text))}, "gzip", text, 200, nil},
	}
	for _, tc := range cases {
		t.Run(tc.desc, func(t *testing.T) {
			tc.cfg.DecompressRequests = true
			var gotErr error
			cfgWithHandler := tc.cfg
			cfgWithHandler.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
				gotErr = err
				w.WriteHeader(http.StatusRequestEntityTooLarge)
			}
			var body []byte
			if strings.Contains(tc.ce, ",") {
				body = encode(t, "gzip", encode(t, "gzip", tc.body))
			} else {
				body = encode(t, tc.ce, tc.body)
			}
			// Default error handler: problem+json 413 replaces the handler's 400.
			rec := do(t, newMW(t, tc.cfg), echo, post(tc.ce, body))
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d (%s)", rec.Code, tc.status, rec.Body.String()[:min(200, rec.Body.Len())])
			}
			if tc.status == 413 {
				assertProblem(t, rec, 413)
				if rec.Header().Get("Content-Encoding") != "" {
					t.Errorf("problem response kept Content-Encoding")
				}
			}
			// Custom error handler gets the typed error.
			do(t, newMW(t, cfgWithHandler), echo, post(tc.ce, body))
			if !errors.Is(gotErr, tc.err) && (gotErr != nil || tc.err != nil) {
				t.Fatalf("ErrorHandler got %v, want %v", gotErr, tc.err)
			}
		})
	}
}

func TestLimitErrorAfterTheHandlerReturnedSilently(t *testing.T) {
	// The handler reads until the error and returns without writing:
	// the middleware still answers 413 instead of an empty 200.
	m := newMW(t, compress.Config{DecompressRequests: true, MaxRequestSize: 10})
	rec := do(t, m, func(_ http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
	}, post("gzip", encode(t, "gzip", jsonBody(100))))
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", rec.Code)
	}
}

func TestCorruptRequestBodyIsTheHandlersError(t *testing.T) {
	m := newMW(t, compress.Config{DecompressRequests: true})
	for _, ce := range []string{"gzip", "br", "zstd", "deflate"} {
		rec := do(t, m, echo, post(ce, []byte("definitely not compressed data")))
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want the handler's 400", ce, rec.Code)
		}
	}
}

func TestRequestBodyIsClosedAndNotReadableAfterwards(t *testing.T) {
	m := newMW(t, compress.Config{DecompressRequests: true})
	var body io.ReadCloser
	do(t, m, func(_ http.ResponseWriter, r *http.Request) {
		body = r.Body
		buf := make([]byte, 10)
		_, _ = r.Body.Read(buf)
		if err := r.Body.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := r.Body.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
	}, post("zstd", encode(t, "zstd", jsonBody(10000))))
	if _, err := body.Read(make([]byte, 10)); !errors.Is(err, http.ErrBodyReadAfterClose) {
		t.Fatalf("Read after the handler returned: %v", err)
	}
}

func TestFlushAfterALimitErrorFailsAndTheAnswerIs413(t *testing.T) {
	m := newMW(t, compress.Config{DecompressRequests: true, MaxRequestSize: 10})
	var flushErr error
	rec := do(t, m, func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte("partial: " + err.Error()))
		flushErr = http.NewResponseController(w).Flush()
	}, post("gzip", encode(t, "gzip", jsonBody(100))))
	if !errors.Is(flushErr, compress.ErrRequestTooLarge) {
		t.Errorf("Flush = %v, want ErrRequestTooLarge", flushErr)
	}
	if rec.Code != http.StatusRequestEntityTooLarge || strings.Contains(rec.Body.String(), "partial") {
		t.Fatalf("status %d body %q, want only the 413 problem", rec.Code, rec.Body)
	}
	assertProblem(t, rec, 413)
}
