package main

import (
	"log"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMain serves a chain when startServers re-executes the test binary
// with -serve, as it re-executes the command.
func TestMain(m *testing.M) {
	if len(os.Args) == 3 && os.Args[1] == "-serve" {
		log.Fatal(serve(os.Args[2]))
	}
	os.Exit(m.Run())
}

// children returns the pids of the live processes whose parent is this one.
func children(t *testing.T) []int {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // gone meanwhile
		}
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:])) // state, ppid, ...
		if len(f) > 1 && f[1] == strconv.Itoa(os.Getpid()) && f[0] != "Z" {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestServersStopWhenAMeasurementFails: a failed run used to log.Fatal with
// the deferred stop pending, so the three server processes went on serving
// after the command exited. run stops them before it returns its error. No
// load is generated: the case's protocol is unknown, so it fails at once.
func TestServersStopWhenAMeasurementFails(t *testing.T) {
	if pids := children(t); len(pids) != 0 {
		t.Fatalf("child processes before the test: %v", pids)
	}
	err := run([]loadCase{{name: "bogus", path: "/2k", proto: "bogus"}}, 1, time.Second, 1, "", "")
	if err == nil || !strings.Contains(err.Error(), `unknown protocol "bogus"`) {
		t.Fatalf("run: %v, want the unknown protocol", err)
	}
	if pids := children(t); len(pids) != 0 {
		t.Errorf("server processes left running after run failed: %v", pids)
	}
}
