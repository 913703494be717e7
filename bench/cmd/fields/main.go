// Command fields measures what the number of response header fields costs a
// server: the server process's CPU time per request (getrusage around each
// wrk run, HTTP/1.1, 64 connections) for the httpmw chain (13 fields on
// /2k) and the peers' chain (11), each as it is and with fields added by an
// outer handler up to 15, run in alternation, medians of -runs rounds.
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
)

func main() {
	runs := flag.Int("runs", 5, "rounds (the median is reported)")
	dur := flag.Duration("d", 4*time.Second, "duration of one wrk run")
	path := flag.String("path", "/2k", "path of bench.Handler to load")
	flag.Parse()
	if _, err := exec.LookPath("wrk"); err != nil {
		log.Fatal("fields: install wrk (apt-get install -y wrk)")
	}
	type variant struct {
		name string
		h    func() (http.Handler, error)
	}
	var variants []variant
	for _, c := range []struct {
		name   string
		chain  func(http.Handler) (http.Handler, error)
		fields int
		extra  []int
	}{
		{"httpmw", bench.OursChain, 13, []int{0, 1, 2}},
		{"peers", bench.PeersChain, 11, []int{0, 3, 4}},
	} {
		for _, n := range c.extra {
			name := fmt.Sprintf("%s (%d fields)", c.name, c.fields+n)
			if n > 0 {
				name = fmt.Sprintf("%s + %d (%d fields)", c.name, n, c.fields+n)
			}
			variants = append(variants, variant{name, func() (http.Handler, error) {
				h, err := c.chain(bench.Handler())
				return withFields(h, n), err
			}})
		}
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

// withFields wraps h in a handler that sets n more response fields
// (X-Extra-1 ...) before h runs.
func withFields(h http.Handler, n int) http.Handler {
	if n == 0 {
		return h
	}
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "X-Extra-" + strconv.Itoa(i+1)
	}
	one := []string{"1"} // shared: nothing edits it, and a fresh slice would add an allocation to the field's cost
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		for _, k := range keys {
			hd[k] = one
		}
		h.ServeHTTP(w, r)
	})
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
