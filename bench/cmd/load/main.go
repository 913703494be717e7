// Command load measures whole chains under load: a bare handler, the
// recommended httpmw chain and the chain of peer libraries (see
// bench.OursChain and bench.PeersChain), served on loopback and loaded with
// wrk (HTTP/1.1) and h2load (h2c), interleaved run by run, every run bounded
// by -d. It prints a Markdown table (req/s, p50, p99, ratios ours/peers) and,
// with -write, puts it into bench/README.md between the load markers. Besides
// the load tools' figures it reports the server process's CPU time per
// request (getrusage around each run), which a busy machine disturbs far
// less than requests/s. Each chain runs in a process of its own (this
// command, re-executed with -serve), so that one chain's garbage, pools and
// heap size do not bill another, new for every round (-fresh) so that what a
// process draws at its start is not inherited by every round, and each round
// runs them after warm-up runs and in an order of a Williams design (each
// runs right after each other equally often). -aa adds an A/A control, a
// second httpmw process: its ratios to the first show how far the machine
// alone moves a ratio of two identical servers. Ratios are the medians of
// the per-round ratios, with their quartiles. -pin gives each server CPU 0
// and the load tool CPU 1 (taskset), so that the two do not compete for the
// same core and the figures measure what one core of the server achieves
// (on the 2-core VM of bench/README.md it was not calmer). -cpuprofile writes
// a profile of each server's last run per case, and -run picks cases by
// name:
//
//	go run ./cmd/load -run 'h2c 2k' -d 3s -cpuprofile /tmp/prof
//
//	cd bench && go run ./cmd/load -aa -d 2s -runs 16 -write README.md
//
// wrk and h2load (Debian packages wrk and nghttp2-client) are installed with
// apt-get when missing and the process runs as root; otherwise it stops with
// a message naming the packages.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	httppprof "net/http/pprof"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jiec/httpmw/bench"
)

func main() {
	dur := flag.Duration("d", 5*time.Second, "duration of one run")
	runs := flag.Int("runs", 3, "runs per server and case (the median is reported)")
	conns := flag.Int("c", 64, "concurrent connections")
	write := flag.String("write", "", "README file whose load section is replaced by the table")
	profDir := flag.String("cpuprofile", "", "directory for a CPU profile of each server's last run per case")
	only := flag.String("run", "", "run only the cases whose name matches this regular expression (no -write)")
	serveName := flag.String("serve", "", "internal: serve the named chain (bare, httpmw, peers) and print its addresses")
	flag.BoolVar(&pin, "pin", false, "pin the servers to CPU 0 and the load tools to CPU 1 (taskset): each server has one core of its own")
	flag.BoolVar(&fresh, "fresh", true, "new server processes for every round (each warmed up by a run of its own); false keeps one process per chain for the whole command")
	flag.BoolVar(&control, "aa", false, "A/A control: a second httpmw process, measured like the others, whose ratio to the first shows what the machine's noise alone does to a ratio")
	flag.Parse()
	if *serveName != "" {
		log.Fatal(serve(*serveName))
	}
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
	var cs []loadCase
	for _, c := range cases() {
		if match.MatchString(c.name) {
			cs = append(cs, c)
		}
	}
	if err := run(cs, *runs, *dur, *conns, *profDir, *write); err != nil {
		log.Fatal(err) // after run stopped the server processes
	}
}

// pin runs the servers on CPU 0 and the load tools on CPU 1 (-pin).
var pin bool

// fresh starts new server processes for every round (-fresh, on by
// default); see run.
var fresh bool

// control adds the A/A control (-aa): a second process of the httpmw chain,
// httpmw2, measured in every round like the others. The ratios
// httpmw/httpmw2 of its rounds show the spread the machine alone gives a
// ratio of two identical servers, against which httpmw/peers is read.
var control bool

// command is exec.Command, under taskset -c cpu when pin is set.
func command(cpu, name string, args ...string) *exec.Cmd {
	if !pin {
		return exec.Command(name, args...)
	}
	return exec.Command("taskset", append([]string{"-c", cpu, name}, args...)...)
}

// run measures the cases against the server processes and prints the
// table (and writes it into the file write, if set). Each round starts with
// a warm-up run against bare (1 s, not counted), so that the first run of a
// round follows the same server whichever it is; the rest of the order is
// roundOrder's. With fresh (the default) every round has new server
// processes, each warmed up by a run of its own before bare's: what one
// process draws at its start (its map hash seeds, where its heap and stacks
// land) is then one round's noise, which the medians absorb, instead of a
// bias every round of the case inherits. The servers are stopped before it
// returns, on error too:
// log.Fatal in its place would exit without running the deferred stop and
// leave them serving.
func run(cs []loadCase, runs int, dur time.Duration, conns int, profDir, write string) error {
	servers, stop, err := startServers()
	if err != nil {
		return err
	}
	defer func() { stop() }() // the processes of the last round

	var rows []row
	for ci, c := range cs {
		res := map[string][]result{}
		for i := 0; i < runs; i++ {
			if fresh && (ci > 0 || i > 0) {
				stop()
				if servers, stop, err = startServers(); err != nil {
					stop = func() {} // startServers stopped what it had started
					return err
				}
			}
			warm := servers[:1] // bare: the first run of the round follows it
			if fresh {
				warm = append(servers[1:len(servers):len(servers)], servers[0]) // every new process, bare last
			}
			for _, s := range warm {
				if _, err := measure(c, s, time.Second, conns, ""); err != nil {
					return fmt.Errorf("warm-up %s %s: %w", s.name, c.name, err)
				}
			}
			for _, k := range roundOrder(i, len(servers)) {
				s := servers[k]
				var prof string
				if profDir != "" && i == runs-1 {
					prof = filepath.Join(profDir, strings.NewReplacer(" ", "-", "=", "-").Replace(s.name+" "+c.name)+".prof")
				}
				r, err := measure(c, s, dur, conns, prof)
				if err != nil {
					return fmt.Errorf("%s %s: %w", s.name, c.name, err)
				}
				res[s.name] = append(res[s.name], r)
				log.Printf("%-28s %-7s %9.0f req/s p50 %v p99 %v, server CPU %.1f µs/req, %.0f B in %.1f allocs/req, %.1f GCs per 10k req",
					c.name, s.name, r.rps, r.p50, r.p99, r.cpu, r.allocB, r.allocN, r.gcs)
			}
		}
		rps := func(r result) float64 { return r.rps }
		cpu := func(r result) float64 { return r.cpu }
		rw := row{name: c.name, bare: median(res["bare"]), ours: median(res["httpmw"]), peers: median(res["peers"]),
			rps: pairedRatio(res["httpmw"], res["peers"], rps),
			p99: pairedRatio(res["httpmw"], res["peers"], func(r result) float64 { return float64(r.p99) }),
			cpu: pairedRatio(res["httpmw"], res["peers"], cpu)}
		if control {
			rw.aaRPS = pairedRatio(res["httpmw"], res["httpmw2"], rps)
			rw.aaCPU = pairedRatio(res["httpmw"], res["httpmw2"], cpu)
		}
		rows = append(rows, rw)
	}
	table := render(rows, dur, runs, conns)
	fmt.Print(table)
	if write != "" {
		return replaceSection(write, table)
	}
	return nil
}

// roundOrder is the order in which round i runs the n servers: the rows of a
// Williams design, so that over n rounds (2n when n is odd) every server
// runs right after every other one equally often within the rounds (run
// puts the same warm-up before each round, so that the round boundaries do
// not unbalance it). A plain rotation always put the same server before
// each one (httpmw after bare, httpmw2 after peers), and the A/A control
// showed what a run inherits from the one before it: httpmw/httpmw2 at
// 0.93–0.96 in 3 of 10 cases over 16 rounds.
func roundOrder(i, n int) []int {
	first := make([]int, n) // 0, 1, n-1, 2, n-2, ...
	for j := 1; j < n; j++ {
		if j%2 == 1 {
			first[j] = (j + 1) / 2
		} else {
			first[j] = n - j/2
		}
	}
	rows := n
	if n%2 == 1 {
		rows = 2 * n // the rows reversed as well
	}
	r := i % rows
	order := make([]int, n)
	for j := range order {
		order[j] = (first[j] + r) % n
	}
	if r >= n {
		slices.Reverse(order)
	}
	return order
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

// server is a chain served by a child process: url is where it serves,
// ctl its control listener (CPU time, profiles).
type server struct{ name, url, ctl string }

// startServers starts one child process per chain and returns them in the
// order bare, httpmw, peers (and httpmw2, a second httpmw, with -aa).
func startServers() ([]server, func(), error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	var servers []server
	var cmds []*exec.Cmd
	stop := func() {
		for _, c := range cmds {
			_ = c.Process.Kill()
			_ = c.Wait()
		}
	}
	names := []string{"bare", "httpmw", "peers"}
	if control {
		names = append(names, "httpmw2")
	}
	for _, name := range names {
		cmd := command("0", exe, "-serve", strings.TrimSuffix(name, "2"))
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			stop()
			return nil, nil, err
		}
		if err := cmd.Start(); err != nil {
			stop()
			return nil, nil, err
		}
		cmds = append(cmds, cmd)
		var addr, ctl string
		if _, err := fmt.Fscan(bufio.NewReader(out), &addr, &ctl); err != nil {
			stop()
			return nil, nil, fmt.Errorf("load: server %s: %w", name, err)
		}
		servers = append(servers, server{name, "http://" + addr, "http://" + ctl})
	}
	return servers, stop, nil
}

// serve is the child process: it serves the chain name over HTTP/1.1 and
// h2c, and on a second listener its CPU time (/cpu, nanoseconds) and CPU
// profiles (/profile?seconds=N). It prints both addresses and serves until
// killed.
func serve(name string) error {
	h := bench.Handler()
	var err error
	switch name {
	case "httpmw":
		h, err = bench.OursChain(h)
	case "peers":
		h, err = bench.PeersChain(h)
	case "bare":
	default:
		err = fmt.Errorf("load: unknown chain %q", name)
	}
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	ctl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/cpu", func(w http.ResponseWriter, _ *http.Request) {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		fmt.Fprint(w, cpuTime().Nanoseconds(), ms.TotalAlloc, ms.Mallocs, ms.NumGC)
	})
	mux.HandleFunc("/profile", func(w http.ResponseWriter, r *http.Request) {
		sec, _ := strconv.Atoi(r.URL.Query().Get("seconds"))
		if err := pprof.StartCPUProfile(w); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		time.Sleep(time.Duration(sec) * time.Second) // the profile's length: the load run's
		pprof.StopCPUProfile()
	})
	// Heap profiles (allocs, heap) for a look at what a run allocates.
	mux.HandleFunc("/debug/pprof/", httppprof.Index)
	go func() { _ = http.Serve(ctl, mux) }()
	fmt.Println(ln.Addr(), ctl.Addr())
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	srv.Protocols = new(http.Protocols)
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetUnencryptedHTTP2(true)
	return srv.Serve(ln)
}

type result struct {
	rps      float64
	p50, p99 time.Duration
	cpu      float64 // server process CPU time (user+sys) per request, µs
	n        int     // requests completed
	// Heap allocated per request (bytes, objects) and GC cycles per 10k
	// requests in the server process, logged with each run.
	allocB, allocN, gcs float64
}

// measure runs c against s and adds the server process's CPU time per
// request to the load tool's figures: CPU per request varies far less than
// requests/s when the load tool competes for the same cores. With a
// non-empty prof it writes a CPU profile of the server during the run
// there.
func measure(c loadCase, s server, d time.Duration, conns int, prof string) (result, error) {
	profDone := make(chan error, 1)
	if prof != "" {
		go func() { profDone <- fetchTo(s.ctl+"/profile?seconds="+strconv.Itoa(int(d.Seconds())), prof) }()
	} else {
		profDone <- nil
	}
	before, err := serverCPU(s)
	if err != nil {
		return result{}, err
	}
	r, err := c.run(s.url+c.path, d, conns)
	if err != nil {
		return r, err
	}
	after, err := serverCPU(s)
	if err != nil {
		return r, err
	}
	if n := float64(r.n); n > 0 {
		r.cpu = float64(after.cpu-before.cpu) / 1e3 / n
		r.allocB = float64(after.bytes-before.bytes) / n
		r.allocN = float64(after.objects-before.objects) / n
		r.gcs = float64(after.gcs-before.gcs) / n * 1e4
	}
	return r, <-profDone
}

// usage is what a server process reports about itself: CPU time (ns) and
// the runtime's cumulative allocation counters.
type usage struct{ cpu, bytes, objects, gcs uint64 }

// serverCPU asks the server process for its CPU time and allocations.
func serverCPU(s server) (usage, error) {
	resp, err := http.Get(s.ctl + "/cpu")
	if err != nil {
		return usage{}, err
	}
	defer resp.Body.Close()
	var u usage
	if _, err := fmt.Fscan(resp.Body, &u.cpu, &u.bytes, &u.objects, &u.gcs); err != nil {
		return usage{}, fmt.Errorf("load: CPU time of %s: %w", s.name, err)
	}
	return u, nil
}

// fetchTo saves the body at url into the file path.
func fetchTo(url, path string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func cpuTime() time.Duration {
	var u syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &u)
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

type loadCase struct {
	name, path, proto string
	gzip              bool
}

func cases() []loadCase {
	var cs []loadCase
	for _, proto := range []string{"h1", "h2c"} {
		for _, size := range []string{"2k", "2k-cc", "32k"} {
			for _, gz := range []bool{false, true} {
				if gz && size == "2k-cc" {
					continue // both chains send 15 fields or more with gzip already
				}
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
	switch c.proto {
	case "h1":
		return runWrk(url, d, conns, c.gzip)
	case "h2c":
		return runH2load(url, d, conns, c.gzip)
	}
	return result{}, fmt.Errorf("load: unknown protocol %q", c.proto)
}

var (
	wrkRPS     = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	wrkN       = regexp.MustCompile(`(\d+) requests in`)
	wrkLatency = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([0-9.]+)(us|ms|s)\s*$`)
)

func runWrk(url string, d time.Duration, conns int, gz bool) (result, error) {
	args := []string{"-t1", "-c" + strconv.Itoa(conns), "-d" + strconv.Itoa(int(d.Seconds())) + "s", "--latency"}
	if gz {
		args = append(args, "-H", "Accept-Encoding: gzip")
	}
	out, err := command("1", "wrk", append(args, url)...).CombinedOutput()
	if err != nil {
		return result{}, fmt.Errorf("wrk: %v: %s", err, out)
	}
	m := wrkRPS.FindSubmatch(out)
	if m == nil {
		return result{}, fmt.Errorf("wrk: no Requests/sec in %s", out)
	}
	var r result
	r.rps, _ = strconv.ParseFloat(string(m[1]), 64)
	if n := wrkN.FindSubmatch(out); n != nil {
		r.n, _ = strconv.Atoi(string(n[1]))
	}
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

var (
	h2RPS = regexp.MustCompile(`finished in [^,]+, ([0-9.]+) req/s`)
	h2N   = regexp.MustCompile(`requests: (\d+) total`)
)

func runH2load(url string, d time.Duration, conns int, gz bool) (result, error) {
	logFile := filepath.Join(os.TempDir(), fmt.Sprintf("h2load-%d.log", os.Getpid()))
	defer os.Remove(logFile)
	args := []string{"-c" + strconv.Itoa(conns), "-m10", "-t1", "-D" + strconv.Itoa(int(d.Seconds())), "--log-file=" + logFile}
	if gz {
		args = append(args, "-H", "accept-encoding: gzip")
	}
	out, err := command("1", "h2load", append(args, url)...).CombinedOutput()
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
	if n := h2N.FindSubmatch(out); n != nil {
		r.n, _ = strconv.Atoi(string(n[1]))
	}
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
		cpu: pick(func(r result) float64 { return r.cpu }),
	}
}

type row struct {
	name              string
	bare, ours, peers result
	rps, p99, cpu     spread // the per-round ratios httpmw/peers
	aaRPS, aaCPU      spread // the per-round ratios httpmw/httpmw2 (-aa)
}

// spread sums up per-round ratios: their median and quartiles.
type spread struct{ q1, med, q3 float64 }

// String is the median, with the quartiles in brackets when there are
// enough rounds (5) for them to say something.
func (s spread) String() string {
	if s.q1 == s.q3 {
		return fmt.Sprintf("%.2f", s.med)
	}
	return fmt.Sprintf("%.2f (%.2f–%.2f)", s.med, s.q1, s.q3)
}

// pairedRatio sums up the rounds' ratios f(ours)/f(peers): the two runs of
// a round are neighbours in time, so a machine whose speed drifts between
// rounds disturbs their ratio far less than the ratio of medians. The
// quartiles are given from 5 rounds on (nearest rank).
func pairedRatio(ours, peers []result, f func(result) float64) spread {
	q := make([]float64, len(ours))
	for i := range ours {
		q[i] = f(ours[i]) / f(peers[i])
	}
	slices.Sort(q)
	s := spread{med: q[len(q)/2]}
	s.q1, s.q3 = s.med, s.med
	if n := len(q); n >= 5 {
		s.q1, s.q3 = q[(n+3)/4-1], q[(3*n+3)/4-1] // ranks ⌈n/4⌉ and ⌈3n/4⌉
	}
	return s
}

func render(rows []row, d time.Duration, runs, conns int) string {
	var b strings.Builder
	pinned, order, aa := "", "bare, httpmw, peers", ""
	procs := "each chain in a process of its own"
	if fresh {
		procs = "each chain in a process of its own, new for every round and warmed up by a run of its own before bare's"
	}
	if pin {
		pinned = "; each server pinned to CPU 0 and the load tool to CPU 1"
	}
	if control {
		order += ", httpmw2"
		aa = " | A/A req/s | A/A CPU/req"
	}
	fmt.Fprintf(&b, "Measured %s, %s per run, %d runs interleaved (%s, each round after a warm-up run and in an order of a Williams design, so that over every n rounds (2n for odd n) each runs right after each other equally often; %s%s), medians; ratios are medians of the per-round ratios, their quartiles in brackets (from 5 rounds); %d connections (h2load: -m10); `%s`.\n\n",
		time.Now().UTC().Format("2006-01-02"), d, runs, order, procs, pinned, conns, commandLine())
	b.WriteString("| case | bare req/s (CPU/req) | httpmw req/s (p50 / p99; CPU/req) | peers req/s (p50 / p99; CPU/req) | req/s ours/peers | p99 ours/peers | CPU/req ours/peers" + aa + " |\n|---|---|---|---|---|---|---|" + strings.Repeat("---|", strings.Count(aa, "|")) + "\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %.0f (%.1f µs) | %.0f (%v / %v; %.1f µs) | %.0f (%v / %v; %.1f µs) | %v | %v | %v |", r.name, r.bare.rps, r.bare.cpu,
			r.ours.rps, r.ours.p50.Round(time.Microsecond), r.ours.p99.Round(time.Microsecond), r.ours.cpu,
			r.peers.rps, r.peers.p50.Round(time.Microsecond), r.peers.p99.Round(time.Microsecond), r.peers.cpu,
			r.rps, r.p99, r.cpu)
		if control {
			fmt.Fprintf(&b, " %v | %v |", r.aaRPS, r.aaCPU)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// commandLine is the command that measured the table: go run ./cmd/load and
// the flags that shape the figures.
func commandLine() string {
	s := "go run ./cmd/load"
	flag.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "d", "runs", "c":
			s += " -" + f.Name + " " + f.Value.String()
		case "pin", "aa":
			if f.Value.String() == "true" {
				s += " -" + f.Name
			}
		case "fresh":
			if f.Value.String() == "false" {
				s += " -fresh=false"
			}
		case "run":
			s += " -run " + strconv.Quote(f.Value.String())
		}
	})
	return s
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
