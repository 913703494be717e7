package redisstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jiec/httpmw/idempotency"
	"github.com/jiec/httpmw/ratelimit"
	"github.com/jiec/httpmw/redisstore"
	"github.com/redis/go-redis/v9"
)

// topology makes clients for one deployment; every "app instance" of a test
// gets its own client, as separate replicas would.
type topology struct {
	newClient func(t *testing.T) redis.UniversalClient
	// masters runs f on every master (SCRIPT FLUSH, PTTL lookups).
	masters func(t *testing.T, f func(c *redis.Client))
}

func standalone(t *testing.T) (topology, *redisServer) {
	s := startRedis(t)
	return topology{
		newClient: func(t *testing.T) redis.UniversalClient { return newClient(t, s.Addr) },
		masters:   func(t *testing.T, f func(c *redis.Client)) { f(newClient(t, s.Addr)) },
	}, s
}

func cluster(t *testing.T) (topology, []*redisServer) {
	nodes := startCluster(t)
	addrs := make([]string, len(nodes))
	for i, n := range nodes {
		addrs[i] = n.Addr
	}
	return topology{
		newClient: func(t *testing.T) redis.UniversalClient { return newClusterClient(t, addrs) },
		masters: func(t *testing.T, f func(c *redis.Client)) {
			for _, a := range addrs {
				f(newClient(t, a))
			}
		},
	}, nodes
}

// scenarios run on every topology.
var scenarios = []struct {
	name string
	run  func(t *testing.T, topo topology)
}{
	{"RateLimitAdmitsExactlyLimitAcrossInstances", testExactAdmission},
	{"RateLimitChargesNoPolicyWhenOneDenies", testAllOrNothing},
	{"RateLimitKeyExpiresWhenFull", testRateLimitTTL},
	{"RateLimitReloadsFlushedScript", testScriptReload},
	{"RateLimitHashesLongKeys", testLongKey},
	{"IdempotencyOneAcquirerAcrossInstances", testAcquireOnce},
	{"IdempotencyFencingToken", testFencing},
	{"IdempotencyLeaseExpiresWhenHolderDies", testLeaseExpiry},
	{"IdempotencyRecordTTL", testRecordTTL},
	{"HTTPRateLimitAdmitsExactlyLimitAcrossInstances", testHTTPExactAdmission},
	{"HTTPIdempotencyRunsHandlerOnceAcrossInstances", testHTTPIdempotencyOnce},
}

func TestStandalone(t *testing.T) {
	topo, _ := standalone(t)
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) { sc.run(t, topo) })
	}
}

// TestSentinel runs the scenarios through a Sentinel failover client: one
// master, one sentinel (redis-server --sentinel) monitoring it.
func TestSentinel(t *testing.T) {
	master := startRedis(t)
	port, err := freePort(false)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "sentinel.conf")
	if err := os.WriteFile(conf, []byte("sentinel monitor main "+strings.ReplaceAll(master.Addr, ":", " ")+" 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// redis-server rewrites its config file: the config path goes first.
	sentinel, err := launchConfig(conf, port, dir, "--sentinel")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sentinel.stop)
	topo := topology{
		newClient: func(t *testing.T) redis.UniversalClient {
			c := redis.NewUniversalClient(&redis.UniversalOptions{
				Addrs: []string{sentinel.Addr}, MasterName: "main", MaxRetries: -1, ContextTimeoutEnabled: true,
			})
			t.Cleanup(func() { c.Close() })
			return c
		},
		masters: func(t *testing.T, f func(c *redis.Client)) { f(newClient(t, master.Addr)) },
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) { sc.run(t, topo) })
	}
}

func TestCluster(t *testing.T) {
	topo, _ := cluster(t)
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) { sc.run(t, topo) })
	}
}

// slowOK is for the correctness scenarios: under -race on a loaded machine a
// cold pool's first dials and handshakes can take longer than the 50 ms
// default; the fault tests measure the default.
var slowOK = redisstore.Options{Timeout: time.Second}

var keySeq atomic.Int64

// uniqueKey keeps scenarios independent on a shared server.
func uniqueKey(t *testing.T) string {
	return fmt.Sprintf("%s-%d", t.Name(), keySeq.Add(1))
}

func rateStores(t *testing.T, topo topology, n int, opts redisstore.Options) []*redisstore.RateLimitStore {
	t.Helper()
	stores := make([]*redisstore.RateLimitStore, n)
	for i := range stores {
		s, err := redisstore.NewRateLimit(topo.newClient(t), opts)
		if err != nil {
			t.Fatal(err)
		}
		stores[i] = s
	}
	return stores
}

func idemStores(t *testing.T, topo topology, n int, opts redisstore.Options) []*redisstore.IdempotencyStore {
	t.Helper()
	stores := make([]*redisstore.IdempotencyStore, n)
	for i := range stores {
		s, err := redisstore.NewIdempotency(topo.newClient(t), opts)
		if err != nil {
			t.Fatal(err)
		}
		stores[i] = s
	}
	return stores
}

// pttl is the key's remaining TTL, looked up on whichever master has it.
func pttl(t *testing.T, topo topology, key string) time.Duration {
	var d time.Duration = -2
	topo.masters(t, func(c *redis.Client) {
		if v, err := c.PTTL(context.Background(), key).Result(); err == nil && v != -2*time.Nanosecond && v > -2 {
			d = v
		}
	})
	return d
}

func testExactAdmission(t *testing.T, topo topology) {
	const limit, workers, perWorker = 25, 3 * 8, 5 // 120 attempts for 25 units
	stores := rateStores(t, topo, 3, slowOK)
	policies := []ratelimit.Policy{{Name: "default", Limit: limit, Period: time.Hour}}
	key := uniqueKey(t)
	var admitted, denied atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, workers*perWorker)
	for w := range workers {
		wg.Go(func() {
			store := stores[w%3]
			states := make([]ratelimit.State, 1)
			<-start
			for range perWorker {
				ok, err := store.Take(context.Background(), key, policies, 1, states)
				switch {
				case err != nil:
					errs <- err
				case ok:
					admitted.Add(1)
				default:
					denied.Add(1)
				}
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if admitted.Load() != limit || denied.Load() != workers*perWorker-limit {
		t.Fatalf("admitted %d, denied %d; want exactly %d admitted of %d", admitted.Load(), denied.Load(), limit, workers*perWorker)
	}
}

func testAllOrNothing(t *testing.T, topo topology) {
	store := rateStores(t, topo, 1, slowOK)[0]
	policies := []ratelimit.Policy{
		{Name: "hourly", Limit: 10, Period: time.Hour},
		{Name: "burst", Limit: 3, Period: time.Minute},
	}
	key := uniqueKey(t)
	states := make([]ratelimit.State, 2)
	for i := range 3 {
		ok, err := store.Take(context.Background(), key, policies, 1, states)
		if err != nil || !ok {
			t.Fatalf("take %d: %v %v", i, ok, err)
		}
	}
	for i := range 5 {
		ok, err := store.Take(context.Background(), key, policies, 1, states)
		if err != nil || ok {
			t.Fatalf("take %d after burst: admitted %v, %v", i, ok, err)
		}
	}
	// The five denied requests charged neither policy: hourly still has 7.
	if !states[0].Allowed || states[0].Remaining != 7 || states[0].RetryAfter != 0 {
		t.Errorf("hourly state %+v, want allowed with 7 remaining", states[0])
	}
	if states[1].Allowed || states[1].Remaining != 0 || states[1].RetryAfter <= 19*time.Second || states[1].RetryAfter > 20*time.Second {
		t.Errorf("burst state %+v, want denied, retry in (19s, 20s]", states[1])
	}
	// A cost larger than one policy's capacity is denied without charging.
	ok, err := store.Take(context.Background(), uniqueKey(t), policies, 4, states)
	if err != nil || ok || !states[0].Allowed || states[1].Allowed || states[0].Remaining != 10 {
		t.Errorf("cost 4: admitted %v %v, states %+v", ok, err, states)
	}
}

func testRateLimitTTL(t *testing.T, topo topology) {
	store := rateStores(t, topo, 1, slowOK)[0]
	key := uniqueKey(t)
	// After one unit, a (T = 1 s) is full again in 1 s and b (T = 100 ms) in
	// 100 ms: each key expires then.
	policies := []ratelimit.Policy{{Name: "a", Limit: 10, Period: 10 * time.Second}, {Name: "b", Limit: 100, Period: 10 * time.Second}}
	states := make([]ratelimit.State, 2)
	if ok, err := store.Take(context.Background(), key, policies, 1, states); err != nil || !ok {
		t.Fatal(ok, err)
	}
	tag := redisstore.RedisKey(redisstore.DefaultRateLimitPrefix, key)
	if d := pttl(t, topo, tag+":a"); d <= 900*time.Millisecond || d > 1001*time.Millisecond {
		t.Errorf("PTTL of a %v, want just under 1 s (the time until full)", d)
	}
	if d := pttl(t, topo, tag+":b"); d <= 0 || d > 101*time.Millisecond {
		t.Errorf("PTTL of b %v, want just under 100 ms", d)
	}
	if states[0].Reset != time.Second || states[1].Reset != 100*time.Millisecond {
		t.Errorf("resets %v %v, want 1s 100ms", states[0].Reset, states[1].Reset)
	}
}

func testScriptReload(t *testing.T, topo topology) {
	store := rateStores(t, topo, 1, slowOK)[0]
	policies := []ratelimit.Policy{{Name: "a", Limit: 100, Period: time.Hour}}
	states := make([]ratelimit.State, 1)
	for round := range 2 {
		topo.masters(t, func(c *redis.Client) {
			if err := c.ScriptFlush(context.Background()).Err(); err != nil {
				t.Fatal(err)
			}
		})
		for i := range 3 { // keys on different nodes of a cluster
			ok, err := store.Take(context.Background(), fmt.Sprintf("%s-%d-%d", uniqueKey(t), round, i), policies, 1, states)
			if err != nil || !ok || states[0].Remaining != 99 {
				t.Fatalf("after SCRIPT FLUSH: %v %v %+v", ok, err, states[0])
			}
		}
	}
	if store.CircuitOpen() {
		t.Error("NOSCRIPT counted as a failure")
	}
}

func testLongKey(t *testing.T, topo topology) {
	store := rateStores(t, topo, 1, slowOK)[0]
	policies := []ratelimit.Policy{{Name: "a", Limit: 2, Period: time.Hour}}
	states := make([]ratelimit.State, 1)
	long := string(bytes.Repeat([]byte("k"), 1<<20))
	for i, want := range []bool{true, true, false} {
		ok, err := store.Take(context.Background(), long, policies, 1, states)
		if err != nil || ok != want {
			t.Fatalf("take %d: %v %v", i, ok, err)
		}
	}
	if k := redisstore.RedisKey("p", long); len(k) > 100 {
		t.Errorf("key of %d bytes", len(k))
	}
}

var testRecord = idempotency.Record{
	Fingerprint: "fp-1",
	Status:      201,
	Header:      http.Header{"Content-Type": {"application/json"}, "Location": {"/orders/7"}, "X-Multi": {"a", "b"}},
	Body:        append([]byte(`{"id":7,"bin":"`), 0, 0xff, '"', '}'),
	Created:     time.Date(2026, 12, 1, 21, 0, 0, 123456789, time.UTC),
}

func sameRecord(t *testing.T, got *idempotency.Record, want idempotency.Record) {
	t.Helper()
	if got == nil {
		t.Fatal("no record")
	}
	if got.Fingerprint != want.Fingerprint || got.Status != want.Status || !bytes.Equal(got.Body, want.Body) ||
		!reflect.DeepEqual(got.Header, want.Header) || !got.Created.Equal(want.Created) {
		t.Fatalf("replayed record %+v, want %+v", *got, want)
	}
}

func testAcquireOnce(t *testing.T, topo topology) {
	const n = 30
	stores := idemStores(t, topo, 3, slowOK)
	key := uniqueKey(t)
	leases := make([]idempotency.Lease, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			leases[i], errs[i] = stores[i%3].Acquire(context.Background(), key, "fp-1", time.Minute)
		})
	}
	close(start)
	wg.Wait()
	holder := -1
	for i, l := range leases {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		switch {
		case l.Acquired && holder >= 0:
			t.Fatalf("acquired twice: %d and %d", holder, i)
		case l.Acquired:
			holder = i
		case l.Fingerprint != "fp-1" || l.RetryAfter <= 0 || l.RetryAfter > time.Minute || l.Record != nil:
			t.Fatalf("lease %d: %+v, want the holder's fingerprint and a retry time", i, l)
		}
	}
	if holder < 0 {
		t.Fatal("nobody acquired")
	}
	if err := stores[holder%3].Complete(context.Background(), key, leases[holder].Token, testRecord, time.Hour); err != nil {
		t.Fatal(err)
	}
	for i, s := range stores {
		l, err := s.Acquire(context.Background(), key, "fp-1", time.Minute)
		if err != nil || l.Acquired {
			t.Fatalf("instance %d after completion: %+v %v", i, l, err)
		}
		sameRecord(t, l.Record, testRecord)
	}
}

func testFencing(t *testing.T, topo topology) {
	stores := idemStores(t, topo, 2, slowOK)
	ctx := context.Background()
	key := uniqueKey(t)
	l, err := stores[0].Acquire(ctx, key, "fp-1", time.Minute)
	if err != nil || !l.Acquired || len(l.Token) == 0 {
		t.Fatal(l, err)
	}
	other, err := stores[1].Acquire(ctx, key, "fp-2", time.Minute)
	if err != nil || other.Acquired || other.Fingerprint != "fp-1" {
		t.Fatalf("second acquire with another fingerprint: %+v %v", other, err)
	}
	last := "A"
	if strings.HasSuffix(l.Token, "A") {
		last = "B"
	}
	for _, tok := range []string{"", "short", l.Token[:len(l.Token)-1] + last, strings.Repeat("Z", len(l.Token))} {
		if err := stores[1].Complete(ctx, key, tok, testRecord, time.Hour); !errors.Is(err, idempotency.ErrLeaseLost) {
			t.Errorf("Complete with token %q: %v", tok, err)
		}
		if err := stores[1].Release(ctx, key, tok); !errors.Is(err, idempotency.ErrLeaseLost) {
			t.Errorf("Release with token %q: %v", tok, err)
		}
	}
	if err := stores[1].Release(ctx, key, l.Token); err != nil { // any instance, with the token
		t.Fatal(err)
	}
	if err := stores[0].Complete(ctx, key, l.Token, testRecord, time.Hour); !errors.Is(err, idempotency.ErrLeaseLost) {
		t.Fatalf("Complete after Release: %v", err)
	}
	l2, err := stores[1].Acquire(ctx, key, "fp-1", time.Minute)
	if err != nil || !l2.Acquired || l2.Token == l.Token {
		t.Fatalf("acquire after release: %+v %v", l2, err)
	}
	if err := stores[0].Release(ctx, key, l.Token); !errors.Is(err, idempotency.ErrLeaseLost) {
		t.Fatalf("old token released the new lease: %v", err)
	}
	if err := stores[1].Complete(ctx, key, l2.Token, testRecord, time.Hour); err != nil {
		t.Fatal(err)
	}
	// Completing twice (a client retry after a lost reply) is not an error
	// and keeps the first record; a Release after completion is.
	rec2 := testRecord
	rec2.Body = []byte("other")
	if err := stores[0].Complete(ctx, key, l2.Token, rec2, time.Hour); err != nil {
		t.Fatalf("repeated Complete: %v", err)
	}
	if err := stores[0].Release(ctx, key, l2.Token); !errors.Is(err, idempotency.ErrLeaseLost) {
		t.Fatalf("Release after Complete: %v", err)
	}
	got, err := stores[0].Acquire(ctx, key, "fp-2", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	sameRecord(t, got.Record, testRecord) // the middleware answers 422: fingerprints differ
}

func testLeaseExpiry(t *testing.T, topo topology) {
	const lease = 150 * time.Millisecond
	stores := idemStores(t, topo, 2, slowOK)
	ctx := context.Background()
	key := uniqueKey(t)
	start := time.Now()
	dead, err := stores[0].Acquire(ctx, key, "fp-1", lease)
	if err != nil || !dead.Acquired {
		t.Fatal(dead, err)
	}
	// The holder "dies": it never completes. Another instance polls.
	var got idempotency.Lease
	for {
		got, err = stores[1].Acquire(ctx, key, "fp-1", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if got.Acquired {
			break
		}
		if got.RetryAfter <= 0 || got.RetryAfter > lease {
			t.Fatalf("RetryAfter %v outside (0, %v]", got.RetryAfter, lease)
		}
		if time.Since(start) > 5*time.Second {
			t.Fatal("lease never expired")
		}
		time.Sleep(10 * time.Millisecond) // polling Redis's PX expiry, not timing our code
	}
	if el := time.Since(start); el < lease-10*time.Millisecond {
		t.Fatalf("acquired after %v, before the %v lease ran out", el, lease)
	}
	if err := stores[0].Complete(ctx, key, dead.Token, testRecord, time.Hour); !errors.Is(err, idempotency.ErrLeaseLost) {
		t.Fatalf("the dead holder completed over the new lease: %v", err)
	}
	if err := stores[1].Complete(ctx, key, got.Token, testRecord, time.Hour); err != nil {
		t.Fatal(err)
	}
}

func testRecordTTL(t *testing.T, topo topology) {
	store := idemStores(t, topo, 1, redisstore.Options{Prefix: "custom", Timeout: time.Second})[0]
	ctx := context.Background()
	key := uniqueKey(t)
	l, err := store.Acquire(ctx, key, "fp", 30*time.Second)
	if err != nil || !l.Acquired {
		t.Fatal(l, err)
	}
	rk := redisstore.RedisKey("custom", key)
	if d := pttl(t, topo, rk); d <= 29*time.Second || d > 30*time.Second {
		t.Fatalf("lease PTTL %v", d)
	}
	if err := store.Complete(ctx, key, l.Token, testRecord, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if d := pttl(t, topo, rk); d <= 24*time.Hour-time.Minute || d > 24*time.Hour {
		t.Fatalf("record PTTL %v", d)
	}
}
