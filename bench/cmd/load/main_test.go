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

// TestPairedRatioQuartiles: the median and, from 5 rounds on, the
// nearest-rank quartiles of the per-round ratios.
func TestPairedRatioQuartiles(t *testing.T) {
	rps := func(r result) float64 { return r.rps }
	mk := func(v ...float64) []result {
		rs := make([]result, len(v))
		for i, x := range v {
			rs[i].rps = x
		}
		return rs
	}
	ones := mk(1, 1, 1, 1, 1, 1, 1, 1)
	for _, tc := range []struct {
		ours []result
		want spread
		text string
	}{
		{mk(1.1, 0.9, 1.0), spread{1.0, 1.0, 1.0}, "1.00"},
		{mk(0.8, 0.9, 1.0, 1.1, 1.2), spread{0.9, 1.0, 1.1}, "1.00 (0.90–1.10)"},
		{mk(1.4, 0.7, 0.9, 1.0, 1.05, 1.1, 1.2, 0.95), spread{0.9, 1.05, 1.1}, "1.05 (0.90–1.10)"},
	} {
		got := pairedRatio(tc.ours, ones[:len(tc.ours)], rps)
		if got != tc.want || got.String() != tc.text {
			t.Errorf("pairedRatio(%v) = %+v %q, want %+v %q", tc.ours, got, got.String(), tc.want, tc.text)
		}
	}
}

// TestRenderControlColumns: with -aa every row has the two A/A columns, and
// the separator line has as many cells as the header.
func TestRenderControlColumns(t *testing.T) {
	defer func(c bool) { control = c }(control)
	for _, aa := range []bool{false, true} {
		control = aa
		s := spread{0.95, 1.0, 1.05}
		out := render([]row{{name: "h1 2k", rps: s, p99: s, cpu: s, aaRPS: s, aaCPU: s}}, time.Second, 5, 64)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		header, sep, body := lines[len(lines)-3], lines[len(lines)-2], lines[len(lines)-1]
		n := strings.Count(header, "|")
		if strings.Count(sep, "|") != n || strings.Count(body, "|") != n {
			t.Errorf("aa=%v: cells: header %d, separator %d, row %d:\n%s", aa, n, strings.Count(sep, "|"), strings.Count(body, "|"), out)
		}
		if got := strings.Contains(header, "A/A"); got != aa {
			t.Errorf("aa=%v: A/A columns %v:\n%s", aa, got, out)
		}
	}
}

// TestRoundOrderBalancesPredecessors: every round runs each server once,
// over n rounds (2n when n is odd) each server runs right after each other
// server equally often within the rounds, and each comes first (right
// after run's warm-up) equally often.
func TestRoundOrderBalancesPredecessors(t *testing.T) {
	for _, n := range []int{2, 3, 4, 5} {
		rounds := n
		if n%2 == 1 {
			rounds = 2 * n
		}
		after := map[[2]int]int{}
		first := map[int]int{}
		for i := range rounds {
			o := roundOrder(i, n)
			first[o[0]]++
			seen := map[int]bool{}
			for j, k := range o {
				if k < 0 || k >= n || seen[k] {
					t.Fatalf("n=%d round %d: order %v is not a permutation", n, i, o)
				}
				seen[k] = true
				if j > 0 {
					after[[2]int{o[j-1], k}]++
				}
			}
		}
		want := rounds * (n - 1) / (n * (n - 1))
		for a := range n {
			if first[a] != rounds/n {
				t.Errorf("n=%d: %d first in %d of %d rounds, want %d", n, a, first[a], rounds, rounds/n)
			}
			for b := range n {
				if a != b && after[[2]int{a, b}] != want {
					t.Errorf("n=%d: %d runs right after %d in %d rounds, want %d", n, b, a, after[[2]int{a, b}], want)
				}
			}
		}
	}
}
