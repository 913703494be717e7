package redisstore_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
)

// TestMain starts one redis-server for the Examples (they read REDIS_ADDR,
// as a deployment would) and checks for leaked goroutines at the end.
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "redisstore-example")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	port, err := freePort(false)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	s, err := launch(port, dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "redisstore tests need redis-server:", err)
		return 1
	}
	os.Setenv("REDIS_ADDR", s.Addr)
	// go-redis logs every failed dial; the fault tests cause many.
	redis.SetLogger(quiet{})
	code := m.Run()
	s.stop()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			return 1
		}
	}
	return code
}
