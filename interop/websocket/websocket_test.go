package websocket_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	coder "github.com/coder/websocket"
	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/jiec/httpmw/cache"
	"github.com/jiec/httpmw/compress"
	"github.com/jiec/httpmw/cors"
	"github.com/jiec/httpmw/security"
	"github.com/jiec/httpmw/trace"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const origin = "https://app.example.com"

type layer struct {
	name string
	mw   func(http.Handler) http.Handler
}

// accessLog records the statuses trace logs.
type accessLog struct {
	mu       sync.Mutex
	statuses []int
}

func (l *accessLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := string(p)
	if i := strings.Index(s, "status="); i >= 0 {
		var code int
		fmt.Sscanf(s[i+len("status="):], "%d", &code)
		l.statuses = append(l.statuses, code)
	}
	return len(p), nil
}

// take returns the statuses logged since the last call.
func (l *accessLog) take() []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.statuses
	l.statuses = nil
	return s
}

func newLogger(l *accessLog) *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }

func hasTrace(order []layer) bool {
	for _, l := range order {
		if l.name == "trace" {
			return true
		}
	}
	return false
}

// layers returns the five middlewares in the recommended order.
func layers(t *testing.T, log *accessLog) []layer {
	t.Helper()
	tr, err := trace.New(trace.Config{AccessLog: newLogger(log)})
	must(t, err)
	sec, err := security.New(security.Config{})
	must(t, err)
	co, err := cors.New(cors.Config{Origins: []string{origin}})
	must(t, err)
	cm, err := compress.New(compress.Config{})
	must(t, err)
	ca, err := cache.New(cache.Config{})
	must(t, err)
	return []layer{{"trace", tr.Handler}, {"security", sec.Handler}, {"cors", co.Handler},
		{"compress", cm.Handler}, {"cache", ca.Handler}}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// orders returns the chains under test: recommended, reversed, each alone.
func orders(ls []layer) map[string][]layer {
	out := map[string][]layer{"recommended": ls}
	rev := make([]layer, len(ls))
	for i, l := range ls {
		rev[len(ls)-1-i] = l
	}
	out["reversed"] = rev
	for _, l := range ls {
		out[l.name+"-alone"] = []layer{l}
	}
	return out
}

func chain(order []layer, h http.Handler) http.Handler {
	for i := len(order) - 1; i >= 0; i-- {
		h = order[i].mw(h)
	}
	return h
}

// gorillaEcho upgrades with gorilla/websocket, which asserts w.(http.Hijacker).
func gorillaEcho(t *testing.T) http.Handler {
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			t.Errorf("gorilla Upgrade: %v", err)
			return
		}
		defer c.Close()
		for {
			mt, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			if err := c.WriteMessage(mt, append([]byte("echo: "), msg...)); err != nil {
				return
			}
		}
	})
}

// coderEcho upgrades with coder/websocket, which writes 101 and then
// hijacks through http.ResponseController.
func coderEcho(t *testing.T) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := coder.Accept(w, r, &coder.AcceptOptions{InsecureSkipVerify: true})
		if err != nil {
			t.Errorf("coder Accept: %v", err)
			return
		}
		defer c.CloseNow()
		ctx := r.Context()
		for {
			mt, msg, err := c.Read(ctx)
			if err != nil {
				return
			}
			if err := c.Write(ctx, mt, append([]byte("echo: "), msg...)); err != nil {
				return
			}
		}
	})
}

var servers = []struct {
	name string
	h    func(*testing.T) http.Handler
}{{"gorilla-server", gorillaEcho}, {"coder-server", coderEcho}}

// TestEchoThroughEveryChain dials each echo server, behind each chain, with
// each client library, and echoes messages both ways.
func TestEchoThroughEveryChain(t *testing.T) {
	log := &accessLog{}
	for name, order := range orders(layers(t, log)) {
		for _, srv := range servers {
			t.Run(name+"/"+srv.name, func(t *testing.T) {
				var handlers sync.WaitGroup // the handlers outlive the hijacked connections' tracking
				inner := chain(order, srv.h(t))
				ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					handlers.Add(1)
					defer handlers.Done()
					inner.ServeHTTP(w, r)
				}))
				defer ts.Close()
				url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/echo"
				t.Run("gorilla-client", func(t *testing.T) { gorillaClient(t, url) })
				t.Run("coder-client", func(t *testing.T) { coderClient(t, url) })
				ts.Close()
				handlers.Wait() // the clients closed: every echo loop returned, trace logged
				if got := log.take(); hasTrace(order) && fmt.Sprint(got) != "[101 101]" {
					t.Errorf("access log statuses %v, want [101 101]", got)
				}
			})
		}
	}
}

func gorillaClient(t *testing.T, url string) {
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	c, res, err := d.Dial(url, http.Header{"Origin": {origin}, "Accept-Encoding": {"gzip"}})
	if err != nil {
		t.Fatalf("dial: %v (response %v)", err, res)
	}
	defer c.Close()
	if res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d, want 101", res.StatusCode)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for i := range 3 {
		msg := fmt.Sprintf("hello %d", i)
		must(t, c.WriteMessage(websocket.TextMessage, []byte(msg)))
		_, got, err := c.ReadMessage()
		must(t, err)
		if string(got) != "echo: "+msg {
			t.Fatalf("echo %q, want %q", got, "echo: "+msg)
		}
	}
	_ = c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
}

func coderClient(t *testing.T, url string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, res, err := coder.Dial(ctx, url, &coder.DialOptions{HTTPHeader: http.Header{"Origin": {origin}, "Accept-Encoding": {"gzip"}}})
	if err != nil {
		t.Fatalf("dial: %v (response %v)", err, res)
	}
	defer c.CloseNow()
	if res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d, want 101", res.StatusCode)
	}
	for i := range 3 {
		msg := fmt.Sprintf("hello %d", i)
		must(t, c.Write(ctx, coder.MessageText, []byte(msg)))
		_, got, err := c.Read(ctx)
		must(t, err)
		if string(got) != "echo: "+msg {
			t.Fatalf("echo %q, want %q", got, "echo: "+msg)
		}
	}
	_ = c.Close(coder.StatusNormalClosure, "")
}
