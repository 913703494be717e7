package writer_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/jiec/httpmw/internal/header"
	"github.com/jiec/httpmw/internal/writer"
)

// FuzzOperationsMatchBareWriter runs a random sequence of handler operations
// (WriteHeader with 1xx and final codes, Write, ReadFrom, Flush, Hijack,
// header edits before and after the status, Vary, trailers, non-canonical
// keys) once against a bare ResponseRecorder and once through a stack of
// Writers over another one, and checks that the handler and the client see
// the same: every operation's result, the informational codes, the status,
// the header section (as the Writers normalize it), the trailers, the body.
// The stacks' Writers are reused from one input to the next, as a pool
// reuses them, so state left behind by one input shows up in the next.
func FuzzOperationsMatchBareWriter(f *testing.F) {
	for _, seed := range [][]byte{
		{},
		{1, 3},                         // Write
		{0, 1, 0, 3, 1, 2},             // 103, then 200, Write
		{0, 5, 1, 2, 0, 7},             // 204, Write refused, 404 ignored
		{5, 6, 0, 3, 1, 2, 6, 7, 8, 9}, // trailers after the status
		{3, 1, 4, 0, 3, 0, 13, 1, 1},   // Vary lists, non-canonical vary
		{9, 1, 1, 2, 0, 6},             // Flush first
		{10, 0, 10, 1, 10, 2, 0, 6},    // ReadFrom failing, empty, with bytes
		{10, 0, 0, 7, 1, 1},            // ReadFrom failing, then 404
		{0, 3, 11, 1, 1},               // Hijack refused while held
		{12, 2, 0, 4, 8, 1, 7, 9},      // non-canonical etag, 201
		{0, 2, 1, 1, 3, 2},             // 101
	} {
		for stack := range byte(len(fuzzStacks)) {
			f.Add(append([]byte{stack}, seed...))
		}
	}
	var s fuzzState
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) == 0 || len(ops) > 64 {
			return
		}
		st := fuzzStacks[int(ops[0])%len(fuzzStacks)]
		ops = ops[1:]
		bare := newInfoRecorder()
		bareRes, _ := runOps(bare, ops)

		ours := newInfoRecorder()
		w := st.open(&s, ours)
		ourRes, accepted := runOps(w, ops)
		status := w.(*writer.Writer).Status()
		st.close(&s)

		if !slices.Equal(ourRes, bareRes) {
			t.Fatalf("%s: results\n%q\nwant (bare)\n%q", st.name, ourRes, bareRes)
		}
		if !slices.Equal(ours.infos, bare.infos) {
			t.Errorf("%s: 1xx %v, want %v", st.name, ours.infos, bare.infos)
		}
		got, want := ours.Result(), bare.Result()
		if got.StatusCode != want.StatusCode || (status != 0 && status != want.StatusCode) {
			t.Errorf("%s: status %d (Writer.Status %d), want %d", st.name, got.StatusCode, status, want.StatusCode)
		}
		wantHeader := want.Header.Clone()
		if st.normalizes {
			header.FoldKeys(wantHeader)
			header.NormalizeVary(wantHeader)
		}
		if !equalHeader(got.Header, wantHeader) {
			t.Errorf("%s: header\n%v\nwant\n%v", st.name, got.Header, wantHeader)
		}
		if !equalHeader(got.Trailer, want.Trailer) {
			t.Errorf("%s: trailers %v, want %v", st.name, got.Trailer, want.Trailer)
		}
		if ours.Flushed != bare.Flushed {
			t.Errorf("%s: flushed %v, want %v", st.name, ours.Flushed, bare.Flushed)
		}
		// (The bare recorder keeps even the bytes it refused.)
		if body := ours.Body.String(); body != accepted {
			t.Errorf("%s: body %q, want what the writes accepted, %q", st.name, body, accepted)
		}
	})
}

// infoRecorder is a ResponseRecorder that treats 1xx codes other than 101
// as net/http does (sent, not committing the status), where the recorder
// itself takes them as the final status.
type infoRecorder struct {
	*httptest.ResponseRecorder
	infos []int
	final bool
}

func newInfoRecorder() *infoRecorder {
	return &infoRecorder{ResponseRecorder: httptest.NewRecorder()}
}

func (r *infoRecorder) WriteHeader(code int) {
	if !r.final && code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		r.infos = append(r.infos, code)
		return
	}
	r.final = true
	r.ResponseRecorder.WriteHeader(code)
}

func (r *infoRecorder) Write(p []byte) (int, error) {
	r.final = true
	return r.ResponseRecorder.Write(p)
}

func (r *infoRecorder) Flush() {
	r.final = true
	r.ResponseRecorder.Flush()
}

// fuzzState holds the Writers every input reuses.
type fuzzState struct {
	plain        writer.Writer
	outer, inner observer
	hold         pooledHolder
}

type fuzzStack struct {
	name       string
	normalizes bool // the Writers fold keys and normalize Vary at commit
	open       func(s *fuzzState, rw http.ResponseWriter) http.ResponseWriter
	close      func(s *fuzzState)
}

var fuzzStacks = []fuzzStack{
	{
		name: "plain",
		open: func(s *fuzzState, rw http.ResponseWriter) http.ResponseWriter {
			s.plain.Reset(rw, nil)
			return &s.plain
		},
		close: func(s *fuzzState) {
			s.plain.Done()
			s.plain.Reset(nil, nil)
		},
	},
	{
		name: "observer", normalizes: true,
		open: func(s *fuzzState, rw http.ResponseWriter) http.ResponseWriter {
			s.outer.Reset(rw, &s.outer)
			return &s.outer.Writer
		},
		close: func(s *fuzzState) {
			s.outer.Done()
			s.outer.Reset(nil, nil)
		},
	},
	{
		name: "observer>holder>observer", normalizes: true,
		open: func(s *fuzzState, rw http.ResponseWriter) http.ResponseWriter {
			s.outer.Reset(rw, &s.outer)
			s.hold.buf = s.hold.buf[:0]
			s.hold.Reset(&s.outer.Writer, &s.hold)
			s.inner.Reset(&s.hold.Writer, &s.inner)
			return &s.inner.Writer
		},
		close: func(s *fuzzState) {
			s.inner.Done()
			if s.hold.Committed() {
				s.hold.SendHeader()
				if len(s.hold.buf) > 0 {
					_, _ = s.hold.WriteDown(s.hold.buf)
				}
			}
			s.hold.Done()
			s.outer.Done()
			s.inner.Reset(nil, nil)
			s.hold.Reset(nil, nil)
			s.outer.Reset(nil, nil)
		},
	},
}

var fuzzCodes = []int{100, 103, 101, 200, 201, 204, 304, 404, 500}

var fuzzVary = []string{"Accept", "accept, Origin", "*", "", "Origin, origin", "Cookie, *"}

// runOps runs ops (each an operation byte and, for most, an argument byte)
// against w and returns what each operation returned, as text, and the body
// bytes the writes accepted.
func runOps(w http.ResponseWriter, ops []byte) (out []string, accepted string) {
	w.Header().Set("Content-Type", "text/plain") // (the recorder sniffs only on a first Write)
	var body strings.Builder
	arg := func(i *int) int {
		*i++
		if *i < len(ops) {
			return int(ops[*i])
		}
		return 0
	}
	for i := 0; i < len(ops); i++ {
		h := w.Header()
		switch op := ops[i] % 14; op {
		case 0:
			w.WriteHeader(fuzzCodes[arg(&i)%len(fuzzCodes)])
		case 1:
			p := bytes.Repeat([]byte{'a' + byte(i%26)}, arg(&i)%5)
			n, err := w.Write(p)
			body.Write(p[:n])
			out = append(out, fmt.Sprintf("write %d %v", n, err))
		case 2:
			h.Set("X-A", fmt.Sprint(arg(&i)))
		case 3:
			h.Set("Vary", fuzzVary[arg(&i)%len(fuzzVary)])
		case 4:
			h["vary"] = append(h["vary"], fuzzVary[arg(&i)%len(fuzzVary)])
		case 5:
			h.Set("Trailer", "X-Sum")
		case 6:
			h.Set("X-Sum", fmt.Sprint("sum", arg(&i)))
		case 7:
			h.Set(http.TrailerPrefix+"X-P", fmt.Sprint("p", arg(&i)))
		case 8:
			if arg(&i)%2 == 0 {
				h.Del("X-Sum")
			} else {
				delete(h, http.TrailerPrefix+"X-P")
			}
		case 9:
			err := http.NewResponseController(w).Flush()
			out = append(out, fmt.Sprintf("flush %v", err))
		case 10:
			var src io.Reader
			switch a := arg(&i); a % 3 {
			case 0:
				src = failingReader{}
			case 1:
				src = onlyReader("")
			default:
				src = struct{ io.Reader }{io.MultiReader(strings.NewReader(strings.Repeat("r", a%7)), failingReader{})}
			}
			n, err := io.Copy(w, src)
			body.WriteString(strings.Repeat("r", int(n)))
			out = append(out, fmt.Sprintf("copy %d %v", n, err))
		case 11:
			_, _, err := http.NewResponseController(w).Hijack()
			out = append(out, fmt.Sprintf("hijack not supported: %v", errors.Is(err, http.ErrNotSupported)))
		case 12:
			h["ETag"] = []string{fmt.Sprintf(`"%d"`, arg(&i))}
		case 13:
			h.Del("Vary")
		}
	}
	return out, body.String()
}
