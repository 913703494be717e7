package redisstore_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The tests run against real redis-server processes they start on
// 127.0.0.1 with free ports, in temporary directories, without persistence.
// A missing redis-server or redis-cli fails the tests: CI installs them
// (apt-get install -y redis-server).

func lookTool(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s not found on PATH (install it: apt-get install -y redis-server): %w", name, err)
	}
	return p, nil
}

// redisServer is one redis-server process.
type redisServer struct {
	Addr string
	port int
	dir  string
	args []string
	cmd  *exec.Cmd
	log  *os.File
}

// launch starts redis-server on port in dir and waits until it answers PING.
func launch(port int, dir string, extra ...string) (*redisServer, error) {
	return launchConfig("", port, dir, extra...)
}

// launchConfig is launch with a config file (the first argument, before
// the options).
func launchConfig(conf string, port int, dir string, extra ...string) (*redisServer, error) {
	bin, err := lookTool("redis-server")
	if err != nil {
		return nil, err
	}
	s := &redisServer{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), port: port, dir: dir}
	if conf != "" {
		s.args = []string{conf}
	}
	s.args = append(s.args, []string{
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning",
	}...)
	s.args = append(s.args, extra...)
	s.log, err = os.OpenFile(filepath.Join(dir, "redis.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	if err := s.start(bin); err != nil {
		s.log.Close()
		return nil, err
	}
	return s, nil
}

func (s *redisServer) start(bin string) error {
	cmd := exec.Command(bin, s.args...)
	cmd.Stdout, cmd.Stderr = s.log, s.log
	if err := cmd.Start(); err != nil {
		return err
	}
	s.cmd = cmd
	deadline := time.Now().Add(5 * time.Second)
	for {
		if err := ping(s.Addr); err == nil {
			return nil
		} else if time.Now().After(deadline) {
			s.kill()
			out, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
			return fmt.Errorf("redis-server on %s not ready: %v\n%s", s.Addr, err, out)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// ping sends PING over a raw connection.
func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(200 * time.Millisecond))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}

// kill stops the process with SIGKILL and reaps it (a crash: no shutdown).
func (s *redisServer) kill() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Kill crashes the server.
func (s *redisServer) Kill(t testing.TB) {
	t.Helper()
	s.kill()
}

// Restart starts it again on the same port and directory.
func (s *redisServer) Restart(t testing.TB) {
	t.Helper()
	bin, err := lookTool("redis-server")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.start(bin); err != nil {
		t.Fatal(err)
	}
}

// Pause freezes the process (SIGSTOP): connections are accepted by the
// kernel but never answered, the slow failure mode.
func (s *redisServer) Pause(t testing.TB) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
}

// Resume continues a paused process.
func (s *redisServer) Resume(t testing.TB) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
}

func (s *redisServer) stop() {
	if s.cmd != nil {
		_ = s.cmd.Process.Signal(syscall.SIGCONT)
	}
	s.kill()
	s.log.Close()
}

// freePort returns a port free on 127.0.0.1; with bus, port+10000 (the
// Cluster bus) is free too.
func freePort(bus bool) (int, error) {
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !bus {
			return port, nil
		}
		if port+10000 > 65535 {
			continue
		}
		if l2, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port+10000))); err == nil {
			l2.Close()
			return port, nil
		}
	}
	return 0, errors.New("no free port pair")
}

// startRedis starts a standalone server for the test, stopped (by PID) in
// t.Cleanup.
func startRedis(t testing.TB, extra ...string) *redisServer {
	t.Helper()
	var lastErr error
	for range 3 { // another process may take the port between probe and bind
		port, err := freePort(false)
		if err != nil {
			t.Fatal(err)
		}
		s, err := launch(port, t.TempDir(), extra...)
		if err == nil {
			t.Cleanup(s.stop)
			return s
		}
		lastErr = err
	}
	t.Fatal(lastErr)
	return nil
}

// startCluster starts three masters (no replicas), creates the cluster with
// redis-cli --cluster create and waits until every node reports
// cluster_state:ok, all 16384 slots ok and 3 known nodes.
func startCluster(t testing.TB) []*redisServer {
	t.Helper()
	cli, err := lookTool("redis-cli")
	if err != nil {
		t.Fatal(err)
	}
	var nodes []*redisServer
	var addrs []string
	for len(nodes) < 3 {
		port, err := freePort(true)
		if err != nil {
			t.Fatal(err)
		}
		// cluster-node-timeout is longer than the outages the fault tests
		// cause, so a crashed master is never marked FAIL (with no replica
		// that would take the whole cluster down for 2× the timeout).
		s, err := launch(port, t.TempDir(), "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000")
		if err != nil {
			t.Log(err)
			continue
		}
		t.Cleanup(s.stop)
		nodes = append(nodes, s)
		addrs = append(addrs, s.Addr)
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	waitClusterOK(t, addrs)
	return nodes
}

func waitClusterOK(t testing.TB, addrs []string) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(20 * time.Second)
	for _, addr := range addrs {
		c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
		for {
			info, err := c.ClusterInfo(ctx).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") &&
				strings.Contains(info, "cluster_slots_ok:16384") && strings.Contains(info, "cluster_known_nodes:3") {
				break
			}
			if time.Now().After(deadline) {
				c.Close()
				t.Fatalf("cluster node %s not ok: %v\n%s", addr, err, info)
			}
			time.Sleep(20 * time.Millisecond)
		}
		c.Close()
	}
}

// newClient is the recommended client configuration for the stores.
func newClient(t testing.TB, addr string) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, ContextTimeoutEnabled: true})
	t.Cleanup(func() { c.Close() })
	return c
}

func newClusterClient(t testing.TB, addrs []string) *redis.ClusterClient {
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, MaxRetries: -1, ContextTimeoutEnabled: true})
	t.Cleanup(func() { c.Close() })
	return c
}
