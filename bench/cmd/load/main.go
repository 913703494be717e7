// Command load measures whole chains under load: a bare handler, the
// recommended httpmw chain and the chain of peer libraries (see
// bench.OursChain and bench.PeersChain), served on loopback and loaded with
// wrk (HTTP/1.1) and h2load (h2c), interleaved run by run, every run bounded
// by -d. It prints a Markdown table (req/s, p50, p99, ratios ours/peers) and,
// with -write, puts it into bench/README.md between the load markers.
//
//	cd bench && go run ./cmd/load -d 5s -runs 3 -write README.md
//
// wrk and h2load (Debian packages wrk and nghttp2-client) are installed with
// apt-get when missing and the process runs as root; otherwise it stops with
// a message naming the packages.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jiec/httpmw/bench"
)

func main() {
	dur := flag.Duration("d", 5*time.Second, "duration of one run")
	runs := flag.Int("runs", 3, "runs per server and case (the median is reported)")
	conns := flag.Int("c", 64, "concurrent connections")
	write := flag.String("write", "", "README file whose load section is replaced by the table")
	only := flag.String("run", "", "run only the cases whose name matches this regular expression (no -write)")
	flag.Parse()
	match, err := regexp.Compile(*only)
	if err != nil {
		log.Fatal(err)
	}
	if *only != "" && *write != "" {
		log.Fatal("load: -run measures part of the table; it cannot be written with -write")
	}
	if err := ensureTools(); err != nil {
		log.Fatal(err)
	}
	servers, stop, err := startServers()
	if err != nil {
		log.Fatal(err)
	}
	defer stop()

	var rows []row
	for _, c := range cases() {
		if !match.MatchString(c.name) {
			continue
		}
		res := map[string][]result{}
		for i := 0; i < *runs; i++ {
			for _, s := range servers { // interleaved: bare, ours, peers, bare, ...
				r, err := c.run(s.url+c.path, *dur, *conns)
				if err != nil {
					log.Fatalf("%s %s: %v", s.name, c.name, err)
				}
				res[s.name] = append(res[s.name], r)
				log.Printf("%-28s %-6s %9.0f req/s p50 %v p99 %v", c.name, s.name, r.rps, r.p50, r.p99)
			}
		}
		rows = append(rows, row{c.name, median(res["bare"]), median(res["httpmw"]), median(res["peers"])})
	}
	table := render(rows, *dur, *runs, *conns)
	fmt.Print(table)
	if *write != "" {
		if err := replaceSection(*write, table); err != nil {
			log.Fatal(err)
		}
	}
}

// ensureTools installs wrk and h2load with apt-get when they are missing.
func ensureTools() error {
	var missing []string
	if _, err := exec.LookPath("wrk"); err != nil {
		missing = append(missing, "wrk")
	}
	if _, err := exec.LookPath("h2load"); err != nil {
		missing = append(missing, "nghttp2-client")
	}
	if len(missing) == 0 {
		return nil
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("load: install %s (apt-get install -y %[1]s)", strings.Join(missing, " "))
	}
	for _, args := range [][]string{{"update", "-qq"}, append([]string{"install", "-y", "-qq"}, missing...)} {
		cmd := exec.Command("apt-get", args...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("load: apt-get %s: %w", strings.Join(args, " "), err)
		}
	}
	return nil
}

type server struct{ name, url string }

func startServers() ([]server, func(), error) {
	h := bench.Handler()
	ours, err := bench.OursChain(h)
	if err != nil {
		return nil, nil, err
	}
	peers, err := bench.PeersChain(h)
	if err != nil {
		return nil, nil, err
	}
	var servers []server
	var stops []func()
	stop := func() {
		for _, s := range stops {
			s()
		}
	}
	for _, s := range []struct {
		name string
		h    http.Handler
	}{{"bare", h}, {"httpmw", ours}, {"peers", peers}} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			stop()
			return nil, nil, err
		}
		srv := &http.Server{Handler: s.h, ReadHeaderTimeout: 10 * time.Second}
		srv.Protocols = new(http.Protocols)
		srv.Protocols.SetHTTP1(true)
		srv.Protocols.SetUnencryptedHTTP2(true)
		go func() { _ = srv.Serve(ln) }()
		stops = append(stops, func() { _ = srv.Shutdown(context.Background()) })
		servers = append(servers, server{s.name, "http://" + ln.Addr().String()})
	}
	return servers, stop, nil
}

type result struct {
	rps      float64
	p50, p99 time.Duration
}

type loadCase struct {
	name, path, proto string
	gzip              bool
}

func cases() []loadCase {
	var cs []loadCase
	for _, proto := range []string{"h1", "h2c"} {
		for _, size := range []string{"2k", "32k"} {
			for _, gz := range []bool{false, true} {
				ae := "identity"
				if gz {
					ae = "gzip"
				}
				cs = append(cs, loadCase{fmt.Sprintf("%s %s ae=%s", proto, size, ae), "/" + size, proto, gz})
			}
		}
	}
	return cs
}

func (c loadCase) run(url string, d time.Duration, conns int) (result, error) {
	if c.proto == "h1" {
		return runWrk(url, d, conns, c.gzip)
	}
	return runH2load(url, d, conns, c.gzip)
}

var (
	wrkRPS     = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	wrkLatency = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([0-9.]+)(us|ms|s)\s*$`)
)

func runWrk(url string, d time.Duration, conns int, gz bool) (result, error) {
	args := []string{"-t1", "-c" + strconv.Itoa(conns), "-d" + strconv.Itoa(int(d.Seconds())) + "s", "--latency"}
	if gz {
		args = append(args, "-H", "Accept-Encoding: gzip")
	}
	out, err := exec.Command("wrk", append(args, url)...).CombinedOutput()
	if err != nil {
		return result{}, fmt.Errorf("wrk: %v: %s", err, out)
	}
	m := wrkRPS.FindSubmatch(out)
	if m == nil {
		return result{}, fmt.Errorf("wrk: no Requests/sec in %s", out)
	}
	var r result
	r.rps, _ = strconv.ParseFloat(string(m[1]), 64)
	for _, l := range wrkLatency.FindAllSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(string(l[2]), 64)
		unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[string(l[3])]
		lat := time.Duration(v * float64(unit))
		if string(l[1]) == "50" {
			r.p50 = lat
		} else {
			r.p99 = lat
		}
	}
	if bytes.Contains(out, []byte("Non-2xx")) {
		return result{}, fmt.Errorf("wrk: non-2xx responses: %s", out)
	}
	return r, nil
}

var h2RPS = regexp.MustCompile(`finished in [^,]+, ([0-9.]+) req/s`)

func runH2load(url string, d time.Duration, conns int, gz bool) (result, error) {
	logFile := filepath.Join(os.TempDir(), fmt.Sprintf("h2load-%d.log", os.Getpid()))
	defer os.Remove(logFile)
	args := []string{"-c" + strconv.Itoa(conns), "-m10", "-t1", "-D" + strconv.Itoa(int(d.Seconds())), "--log-file=" + logFile}
	if gz {
		args = append(args, "-H", "accept-encoding: gzip")
	}
	out, err := exec.Command("h2load", append(args, url)...).CombinedOutput()
	if err != nil {
		return result{}, fmt.Errorf("h2load: %v: %s", err, out)
	}
	m := h2RPS.FindSubmatch(out)
	if m == nil {
		return result{}, fmt.Errorf("h2load: no req/s in %s", out)
	}
	if !bytes.Contains(out, []byte(" 0 failed, 0 errored")) {
		return result{}, fmt.Errorf("h2load: failed requests: %s", out)
	}
	var r result
	r.rps, _ = strconv.ParseFloat(string(m[1]), 64)
	f, err := os.Open(logFile)
	if err != nil {
		return result{}, err
	}
	defer f.Close()
	var lat []time.Duration
	sc := bufio.NewScanner(f)
	for sc.Scan() { // start time (µs), status, duration (µs)
		fields := strings.Fields(sc.Text())
		if len(fields) < 3 {
			continue
		}
		us, err := strconv.ParseInt(fields[2], 10, 64)
		if err == nil {
			lat = append(lat, time.Duration(us)*time.Microsecond)
		}
	}
	if len(lat) == 0 {
		return result{}, errors.New("h2load: empty log")
	}
	slices.Sort(lat)
	r.p50, r.p99 = lat[len(lat)/2], lat[len(lat)*99/100]
	return r, nil
}

func median(rs []result) result {
	pick := func(f func(result) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	return result{
		rps: pick(func(r result) float64 { return r.rps }),
		p50: time.Duration(pick(func(r result) float64 { return float64(r.p50) })),
		p99: time.Duration(pick(func(r result) float64 { return float64(r.p99) })),
	}
}

type row struct {
	name              string
	bare, ours, peers result
}

func render(rows []row, d time.Duration, runs, conns int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Measured %s, %s per run, %d runs interleaved (bare, httpmw, peers), medians; %d connections (h2load: -m10); `go run ./cmd/load`.\n\n",
		time.Now().UTC().Format("2006-01-02"), d, runs, conns)
	b.WriteString("| case | bare req/s | httpmw req/s (p50 / p99) | peers req/s (p50 / p99) | req/s ours/peers | p99 ours/peers |\n|---|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %.0f | %.0f (%v / %v) | %.0f (%v / %v) | %.2f | %.2f |\n", r.name, r.bare.rps,
			r.ours.rps, r.ours.p50.Round(time.Microsecond), r.ours.p99.Round(time.Microsecond),
			r.peers.rps, r.peers.p50.Round(time.Microsecond), r.peers.p99.Round(time.Microsecond),
			r.ours.rps/r.peers.rps, float64(r.ours.p99)/float64(r.peers.p99))
	}
	return b.String()
}

const beginMark, endMark = "<!-- load:begin -->", "<!-- load:end -->"

func replaceSection(path, table string) error {
	old, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s := string(old)
	i, j := strings.Index(s, beginMark), strings.Index(s, endMark)
	if i < 0 || j < i {
		return fmt.Errorf("load: %s has no %s … %s section", path, beginMark, endMark)
	}
	s = s[:i+len(beginMark)] + "\n" + table + s[j:]
	return os.WriteFile(path, []byte(s), 0o644)
}
