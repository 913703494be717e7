package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestEchoThroughChain upgrades through all eight middlewares, echoes
// messages both ways, and checks what the 101 carries and what a refused
// upgrade gets.
func TestEchoThroughChain(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan string, 1), make(chan error, 1)
	go func() { done <- run(ctx, "127.0.0.1:0", io.Discard, ready) }()
	addr := <-ready
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("shutdown: %v", err)
		}
	}()
	dialCtx, stop := context.WithTimeout(ctx, 20*time.Second) // a hung upgrade fails, never hangs
	defer stop()

	hdr := http.Header{"Accept-Encoding": {"gzip, br"}, "X-Trace-Id": {"ws-test-1"}}
	c, res, err := websocket.Dial(dialCtx, "ws://"+addr+"/echo", &websocket.DialOptions{HTTPHeader: hdr})
	if err != nil {
		t.Fatalf("dial: %v (response %v)", err, res)
	}
	defer c.CloseNow()
	if res.StatusCode != http.StatusSwitchingProtocols || res.Header.Get("X-Trace-Id") != "ws-test-1" ||
		res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("Content-Encoding") != "" ||
		!strings.Contains(res.Header.Get("RateLimit-Policy"), `"concurrency";q=8`) {
		t.Errorf("101 response: %d %v", res.StatusCode, res.Header)
	}
	for _, msg := range []string{"hello", strings.Repeat("long message ", 500)} {
		if err := c.Write(dialCtx, websocket.MessageText, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		typ, got, err := c.Read(dialCtx)
		if err != nil || typ != websocket.MessageText || string(got) != msg {
			t.Fatalf("echo of %.20q: %v %.20q %v", msg, typ, got, err)
		}
	}
	if err := c.Close(websocket.StatusNormalClosure, "bye"); err != nil {
		t.Errorf("close: %v", err)
	}

	// A page on another origin may not open the socket.
	_, res, err = websocket.Dial(dialCtx, "ws://"+addr+"/echo", &websocket.DialOptions{
		HTTPHeader: http.Header{"Origin": {"https://evil.example"}}})
	if err == nil || res == nil || res.StatusCode != http.StatusForbidden || res.Header.Get("X-Trace-Id") == "" {
		t.Errorf("foreign origin: %v %v", err, res)
	}

	// The page that opens the socket carries its CSP nonce.
	pres, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(pres.Body)
	pres.Body.Close()
	http.DefaultClient.CloseIdleConnections()
	if !strings.Contains(string(body), `<script nonce="`) || !strings.Contains(pres.Header.Get("Content-Security-Policy"), "'nonce-") {
		t.Errorf("page: %v %q", pres.Header, body)
	}
}
