package bench

import (
	"context"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"unsafe"
)

// Stack depth of the chains. net/http runs every HTTP/2 request in a new
// goroutine whose stack starts small (the runtime's average at the last GC)
// and is copied to one twice as large whenever a call does not fit: with
// deep frames every request pays one or more copies, each walking every
// frame on the stack. In CPU profiles of h2c load runs runtime.newstack was
// 12 % of the httpmw chain's samples against 4 % of the peers'. This test
// measures how many bytes of stack each chain adds above the caller of
// ServeHTTP (the deepest point reached at a call of the writer below or of
// the handler) and fails when httpmw's chain needs more than the budget.
//
// STACKFRAMES=1 prints the frames at the deepest point; their sizes come
// from `go build -gcflags='github.com/jiec/httpmw/...=-S' ./pkg 2>&1 | grep STEXT`
// (locals=0x…).

// chainStackBudget is the most stack the httpmw chain (with the bare
// handler's 616 B) may use above its caller in any chainCases case, in
// bytes. When it was set (Go 1.26.8, amd64) the httpmw chain used 1456 B
// (5264 B before issue 20), the peers' chain 1024–2552 B.
const chainStackBudget = 1600

// chainStackBudgetRace is chainStackBudget under the race detector (which
// scripts/test-all.sh and CI use): its instrumentation makes the frames
// larger (the httpmw chain 1456 → 2144 B, the peers' 2552 → 3440 B, the bare
// handler 616 → 744 B).
const chainStackBudgetRace = 2304

type stackProbe struct {
	base, max uintptr
	frames    []string
}

//go:noinline
func (p *stackProbe) mark() {
	var x byte
	d := p.base - uintptr(unsafe.Pointer(&x))
	if d <= p.max {
		return
	}
	p.max = d
	if os.Getenv("STACKFRAMES") == "" {
		return
	}
	pcs := make([]uintptr, 64)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(2, pcs)])
	p.frames = p.frames[:0]
	for {
		f, more := frames.Next()
		if !more || strings.HasSuffix(f.Function, "bench.probeServe") {
			break
		}
		p.frames = append(p.frames, f.Function)
	}
}

// probeWriter is the writer below the chain: every call marks the depth.
type probeWriter struct {
	p *stackProbe
	h http.Header
}

func (w *probeWriter) Header() http.Header         { w.p.mark(); return w.h }
func (w *probeWriter) WriteHeader(int)             { w.p.mark() }
func (w *probeWriter) Write(b []byte) (int, error) { w.p.mark(); return len(b), nil }
func (w *probeWriter) Flush()                      { w.p.mark() }

type probeKey struct{}

// probeHandler is Handler with a mark at its entry.
func probeHandler() http.Handler {
	h := Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Context().Value(probeKey{}).(*stackProbe).mark()
		h.ServeHTTP(w, r)
	})
}

// growStack makes the goroutine's stack large enough that the probe runs
// without a copy (a copy would move the frames and spoil the addresses).
//
//go:noinline
func growStack() byte {
	var big [64 << 10]byte
	return keep(big[:])
}

//go:noinline
func keep(b []byte) byte { return b[len(b)/2] }

// probeServe serves r through h and returns the probe, or nil when the
// stack was copied meanwhile (a GC may shrink it): the addresses are then
// from two different stacks.
//
//go:noinline
func probeServe(h http.Handler, r *http.Request) *stackProbe {
	var base byte
	p := &stackProbe{base: uintptr(unsafe.Pointer(&base))}
	w := &probeWriter{p: p, h: http.Header{}}
	h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), probeKey{}, p)))
	if uintptr(unsafe.Pointer(&base)) != p.base {
		return nil
	}
	return p
}

// stackDepth serves r through h on a fresh goroutine and returns the probe
// of the first run whose stack stayed in place.
func stackDepth(h http.Handler, r *http.Request) *stackProbe {
	ch := make(chan *stackProbe)
	for {
		go func() {
			growStack()
			ch <- probeServe(h, r)
		}()
		if p := <-ch; p != nil {
			return p
		}
	}
}

func TestChainStack(t *testing.T) {
	h := probeHandler()
	ours, err := OursChain(h)
	if err != nil {
		t.Fatal(err)
	}
	peers, err := PeersChain(h)
	if err != nil {
		t.Fatal(err)
	}
	_, etag := chainImpls(t)
	bare := stackDepth(h, chainRequest("GET", "/2k")).max
	for _, c := range chainCases() {
		r := c.req(etag)
		r.RemoteAddr = "192.0.2.1:1234"
		o, p := stackDepth(ours, r), stackDepth(peers, r)
		t.Logf("%-10s httpmw %5d B  peers %5d B  (above the bare handler's %d B)", c.name, o.max, p.max, bare)
		if len(o.frames) > 0 {
			t.Logf("httpmw's deepest point:\n\t%s", strings.Join(o.frames, "\n\t"))
		}
		budget := uintptr(chainStackBudget)
		if raceEnabled {
			budget = chainStackBudgetRace
		}
		if o.max > budget {
			t.Errorf("%s: the httpmw chain uses %d bytes of stack, budget %d", c.name, o.max, budget)
		}
	}
}
