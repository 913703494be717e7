// Command fields measures what the number of response header fields costs a
// server: the server process's CPU time per request (getrusage around each
// wrk run, HTTP/1.1, 64 connections) for the httpmw chain as it is (17
// fields on /2k), the same chain with three security headers omitted (14
// fields), the peers' chain (14 fields) and the peers' chain with one field
// more (15), run in alternation, medians of -runs rounds.
//
//	cd bench && go run ./cmd/fields -runs 5
//
// A fresh http.Header holds 14 fields in the 16 slots of its first table;
// the 15th makes it grow to 32 (a rehash), and net/http clones the map at
// WriteHeader, so the clone doubles too. See bench/README.md.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/jiec/httpmw/bench"
	"github.com/jiec/httpmw/security"
)

func main() {
	runs := flag.Int("runs", 5, "rounds (the median is reported)")
	dur := flag.Duration("d", 4*time.Second, "duration of one wrk run")
	path := flag.String("path", "/2k", "path of bench.Handler to load")
	flag.Parse()
	if _, err := exec.LookPath("wrk"); err != nil {
		log.Fatal("fields: install wrk (apt-get install -y wrk)")
	}
	variants := []struct {
		name string
		h    func() (http.Handler, error)
	}{
		{"httpmw (17 fields)", func() (http.Handler, error) { return ours(nil) }},
		{"httpmw, 3 security headers omitted (14)", func() (http.Handler, error) {
			return ours([]string{"Origin-Agent-Cluster", "X-DNS-Prefetch-Control", "X-Permitted-Cross-Domain-Policies"})
		}},
		{"peers (14 fields)", func() (http.Handler, error) { return bench.PeersChain(bench.Handler()) }},
		{"peers + 1 field (15)", func() (http.Handler, error) {
			p, err := bench.PeersChain(bench.Handler())
			extra := []string{"?1"}
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header()["Origin-Agent-Cluster"] = extra
				p.ServeHTTP(w, r)
			}), err
		}},
	}
	res := make([][]float64, len(variants))
	for round := 0; round < *runs; round++ {
		for i, v := range variants {
			h, err := v.h()
			if err != nil {
				log.Fatal(err)
			}
			us, err := cpuPerRequest(h, *path, *dur)
			if err != nil {
				log.Fatal(err)
			}
			res[i] = append(res[i], us)
		}
	}
	fmt.Printf("server CPU per request, %s, wrk -c64, median of %d\n", *path, *runs)
	for i, v := range variants {
		slices.Sort(res[i])
		fmt.Printf("%-42s %6.1f µs\n", v.name, res[i][len(res[i])/2])
	}
}

// ours is bench.OursChain with security's Omit set to omit.
func ours(omit []string) (http.Handler, error) {
	return bench.OursChainWith(bench.Handler(), security.Config{Omit: omit})
}

var wrkN = regexp.MustCompile(`(\d+) requests in`)

func cpuPerRequest(h http.Handler, path string, d time.Duration) (float64, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	before := cpuTime()
	out, err := exec.Command("wrk", "-t1", "-c64", "-d"+strconv.Itoa(int(d.Seconds()))+"s", "http://"+ln.Addr().String()+path).CombinedOutput()
	after := cpuTime()
	if err != nil {
		return 0, fmt.Errorf("wrk: %v: %s", err, out)
	}
	m := wrkN.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("wrk: no request count in %s", out)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return float64((after - before).Nanoseconds()) / 1e3 / float64(n), nil
}

func cpuTime() time.Duration {
	var u syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &u)
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}
