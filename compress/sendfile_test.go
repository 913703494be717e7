package compress_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/jiec/httpmw/compress"
)

// readFromSpy is a server writer with io.ReaderFrom (the sendfile path of
// net/http on plain TCP) that counts its use.
type readFromSpy struct {
	*httptest.ResponseRecorder
	calls int
}

func (s *readFromSpy) ReadFrom(r io.Reader) (int64, error) {
	s.calls++
	return io.Copy(struct{ io.Writer }{s.ResponseRecorder}, r)
}

func TestPlainResponsesKeepTheServerReadFrom(t *testing.T) {
	body := bytes.Repeat([]byte{0x89, 'P', 'N', 'G'}, 4096)
	cases := []struct {
		desc, contentType string
		sendfile          bool
	}{
		{"incompressible type: io.Copy reaches sendfile", "image/png", true},
		{"compressed type: io.Copy goes through the encoder", "application/json", false},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			h := compress.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", c.contentType)
				_, _ = io.Copy(w, struct{ io.Reader }{bytes.NewReader(body)}) // like an *os.File
			}))
			spy := &readFromSpy{ResponseRecorder: httptest.NewRecorder()}
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Header.Set("Accept-Encoding", "gzip")
			h.ServeHTTP(spy, req)
			if got := spy.calls == 1; got != c.sendfile {
				t.Errorf("server ReadFrom used: %t, want %t", got, c.sendfile)
			}
			if c.sendfile && !bytes.Equal(spy.Body.Bytes(), body) {
				t.Errorf("body changed: %d bytes", spy.Body.Len())
			}
			if !c.sendfile && spy.Header().Get("Content-Encoding") != "gzip" {
				t.Errorf("Content-Encoding %q, want gzip", spy.Header().Get("Content-Encoding"))
			}
		})
	}
}
