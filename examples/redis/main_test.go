package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// startRedis runs a throwaway redis-server (no persistence) on a free port
// and returns its address and a function that kills it. A missing redis-server fails the test: install
// it (apt-get install -y redis-server).
func startRedis(t *testing.T) (string, func()) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server not found on PATH (apt-get install -y redis-server): %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	cmd := exec.Command(bin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", t.TempDir(), "--logfile", "")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	kill := func() { once.Do(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }) }
	t.Cleanup(kill)
	readyc := make(chan error, 1)
	go func() {
		var log strings.Builder
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "Ready to accept connections") {
				readyc <- nil
				_, _ = io.Copy(io.Discard, out)
				return
			}
		}
		readyc <- fmt.Errorf("redis-server exited:\n%s", log.String())
	}()
	select {
	case err := <-readyc:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("redis-server not ready after 20 s")
	}
	return "127.0.0.1:" + port, kill
}

// TestReplicasShareRedis: a retry on the other replica is replayed, and the
// two replicas count one limit.
func TestReplicasShareRedis(t *testing.T) {
	redisAddr, killRedis := startRedis(t)
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan []string, 1), make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"127.0.0.1:0", "127.0.0.1:0"}, &redis.UniversalOptions{Addrs: []string{redisAddr}}, io.Discard, ready)
	}()
	var urls []string
	select {
	case urls = <-ready:
	case err := <-done:
		t.Fatal(err)
	}
	client := &http.Client{}
	defer func() {
		client.CloseIdleConnections()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("shutdown: %v", err)
		}
	}()
	do := func(method, url, key string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, url, strings.NewReader("tea"))
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}

	res, first := do("POST", urls[0]+"/orders", "k1")
	if res.StatusCode != 201 || first != "order for \"tea\" taken by replica-1\n" {
		t.Fatalf("POST to replica 1: %d %q", res.StatusCode, first)
	}
	res, again := do("POST", urls[1]+"/orders", "k1")
	if res.StatusCode != 201 || again != first || res.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("retry on replica 2: %d %v %q, want replica 1's answer replayed", res.StatusCode, res.Header, again)
	}

	// 15 at once (10 a minute, 5 burst) for both replicas together; the two
	// POSTs took 2. A unit comes back every 6 s.
	admitted := 2
	for i := 0; i < 40; i++ {
		res, _ := do("GET", urls[i%2]+"/", "")
		if res.StatusCode == http.StatusTooManyRequests {
			if res.Header.Get("Retry-After") == "" {
				t.Errorf("429 without Retry-After: %v", res.Header)
			}
			break
		}
		admitted++
	}
	if admitted < 15 || admitted > 16 {
		t.Errorf("the replicas admitted %d requests together, want 15 (one shared limit)", admitted)
	}
	for _, u := range urls {
		if res, _ := do("GET", u+"/", ""); res.StatusCode != http.StatusTooManyRequests {
			t.Errorf("%s after the shared limit: %d, want 429", u, res.StatusCode)
		}
	}

	// Redis goes away: the rate limit fails open (FailOpen), idempotency
	// refuses to run the handler unprotected (503 problem+json).
	killRedis()
	if res, _ := do("POST", urls[0]+"/orders", "k2"); res.StatusCode != http.StatusServiceUnavailable ||
		res.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("POST with Redis down: %d %v, want 503 problem+json", res.StatusCode, res.Header)
	}
	if res, body := do("GET", urls[1]+"/", ""); res.StatusCode != 200 || body != "replica-2\n" {
		t.Errorf("GET with Redis down: %d %q, want 200 (fail open)", res.StatusCode, body)
	}
}
