package cache_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/jiec/httpmw/cache"
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

func TestResponsesNotHashedKeepTheServerReadFrom(t *testing.T) {
	body := bytes.Repeat([]byte("file content "), 1000)
	cases := []struct {
		desc     string
		etag     string
		sendfile bool
	}{
		{"handler's own ETag: nothing to hash, sendfile kept", `"v1"`, true},
		{"no validator: the body is hashed for an ETag", "", false},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			h := cache.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if c.etag != "" {
					w.Header().Set("ETag", c.etag)
				}
				_, _ = io.Copy(w, struct{ io.Reader }{bytes.NewReader(body)}) // like an *os.File
			}))
			spy := &readFromSpy{ResponseRecorder: httptest.NewRecorder()}
			h.ServeHTTP(spy, httptest.NewRequest(http.MethodGet, "/", nil))
			if got := spy.calls == 1; got != c.sendfile {
				t.Errorf("server ReadFrom used: %t, want %t", got, c.sendfile)
			}
			if !bytes.Equal(spy.Body.Bytes(), body) || spy.Header().Get("ETag") == "" {
				t.Errorf("body %d bytes, ETag %q", spy.Body.Len(), spy.Header().Get("ETag"))
			}
		})
	}
}
