package redisstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jiec/httpmw/ratelimit"
	"github.com/jiec/httpmw/redisstore"
	"github.com/redis/go-redis/v9"
)

// The fault tests use the default Timeout (50 ms) and BreakerCooldown
// (250 ms) and real time: what they check is latency against a real dead or
// hung server. Every call must return within Timeout + slack; after
// BreakerThreshold failures the breaker answers at once; after a restart
// the store recovers within a second, without restarting the app.
const (
	faultThreshold = 3
	slack          = 5 * time.Millisecond
)

// faultOp is one store call of the kind under test.
type faultOp func(ctx context.Context, key string) error

func rateOp(t *testing.T, client redis.UniversalClient) (faultOp, interface{ CircuitOpen() bool }) {
	s, err := redisstore.NewRateLimit(client, redisstore.Options{BreakerThreshold: faultThreshold})
	if err != nil {
		t.Fatal(err)
	}
	policies := []ratelimit.Policy{{Name: "p", Limit: 1000, Period: time.Second}}
	return func(ctx context.Context, key string) error {
		states := make([]ratelimit.State, 1)
		_, err := s.Take(ctx, key, policies, 1, states)
		return err
	}, s
}

func idemOp(t *testing.T, client redis.UniversalClient) (faultOp, interface{ CircuitOpen() bool }) {
	s, err := redisstore.NewIdempotency(client, redisstore.Options{BreakerThreshold: faultThreshold})
	if err != nil {
		t.Fatal(err)
	}
	return func(ctx context.Context, key string) error {
		_, err := s.Acquire(ctx, key, "fp", time.Second)
		return err
	}, s
}

// waitUp calls op until it succeeds, failing after within.
func waitUp(t *testing.T, op faultOp, key string, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		err := op(context.Background(), key)
		if err == nil {
			return time.Since(start)
		}
		if !errors.Is(err, redisstore.ErrUnavailable) {
			t.Fatalf("error %v does not wrap ErrUnavailable", err)
		}
		if time.Since(start) > within {
			t.Fatalf("not recovered after %v: %v", time.Since(start), err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// timed runs op and, beside it, a control timer of DefaultTimeout and the
// stalls ticker; late is the larger of how much later than asked the
// control fired and how long the ticker saw this process unable to run:
// the scheduler's delay on a loaded machine, which the latency bound allows
// on top of the slack.
func timed(op faultOp, key string) (el, late time.Duration, err error) {
	done := make(chan time.Duration)
	stop := make(chan struct{})
	lost := stalls(stop)
	start := time.Now()
	go func() {
		<-time.After(redisstore.DefaultTimeout)
		done <- time.Since(start) - redisstore.DefaultTimeout
	}()
	err = op(context.Background(), key)
	el = time.Since(start)
	late = <-done
	close(stop)
	return el, max(late, <-lost), err
}

// checkOutage calls op for outage while the server is down and checks every
// call's latency and the breaker: the first faultThreshold calls reach
// Redis and fail within the timeout; then the breaker answers at once,
// except for one probe per cooldown.
func checkOutage(t *testing.T, op faultOp, br interface{ CircuitOpen() bool }, key string, hung bool) {
	t.Helper()
	const outage = 700 * time.Millisecond
	var worst time.Duration
	var lastProbe time.Time
	calls, probes, open := 0, 0, 0
	for start := time.Now(); calls < faultThreshold+5 || time.Since(start) < outage; calls++ {
		el, late, err := timed(op, key)
		if !errors.Is(err, redisstore.ErrUnavailable) {
			t.Fatalf("call %d while down: %v, want ErrUnavailable", calls, err)
		}
		if errors.Is(err, redisstore.ErrCircuitOpen) {
			open++
			if calls < faultThreshold {
				t.Fatalf("call %d: breaker open before %d failures", calls, faultThreshold)
			}
			if !br.CircuitOpen() {
				t.Fatal("ErrCircuitOpen while CircuitOpen() is false")
			}
			if el > slack {
				t.Errorf("call %d with the breaker open took %v", calls, el)
			}
			continue
		}
		worst = max(worst, el)
		if el > redisstore.DefaultTimeout+slack+late {
			t.Errorf("call %d took %v, more than timeout + %v (+ %v the control timer was late)", calls, el, slack, late)
		}
		if hung && el < redisstore.DefaultTimeout-slack {
			t.Errorf("call %d against a hung server returned after %v, before the timeout", calls, el)
		}
		if calls >= faultThreshold {
			if probes > 0 && time.Since(lastProbe) < redisstore.DefaultBreakerCooldown {
				t.Errorf("call %d reached Redis %v after the last probe, within the cooldown", calls, time.Since(lastProbe))
			}
			probes++
			lastProbe = time.Now()
		}
	}
	if open == 0 || time.Duration(probes-1)*redisstore.DefaultBreakerCooldown > outage+time.Second {
		t.Errorf("%d calls: %d answered by the open breaker, %d probes", calls, open, probes)
	}
	t.Logf("%d calls: %d failed at Redis (worst %v), %d probes, %d answered by the open breaker", calls, calls-open, worst, probes, open)
}

func TestFaultStandalone(t *testing.T) {
	ops := []struct {
		name string
		make func(*testing.T, redis.UniversalClient) (faultOp, interface{ CircuitOpen() bool })
	}{{"RateLimit", rateOp}, {"Idempotency", idemOp}}
	for _, o := range ops {
		t.Run(o.name+"/Crash", func(t *testing.T) {
			srv := startRedis(t)
			op, br := o.make(t, newClient(t, srv.Addr))
			waitUp(t, op, "k", time.Second)
			srv.Kill(t)
			checkOutage(t, op, br, "k", false)
			srv.Restart(t)
			t.Logf("recovered %v after restart", waitUp(t, op, "k", time.Second))
			if br.CircuitOpen() {
				t.Error("breaker still open after a success")
			}
		})
		t.Run(o.name+"/Hang", func(t *testing.T) {
			srv := startRedis(t)
			op, br := o.make(t, newClient(t, srv.Addr))
			waitUp(t, op, "k", time.Second)
			srv.Pause(t)
			checkOutage(t, op, br, "k", true)
			srv.Resume(t)
			t.Logf("recovered %v after resume", waitUp(t, op, "k", time.Second))
		})
	}
}

// TestFaultCluster crashes, then freezes, the master that owns the key:
// calls for it fail within the timeout and open the breaker. A frozen
// master serves again within a second of SIGCONT. A crashed one restarted
// on the same port with its nodes.conf takes longer: Redis Cluster keeps a
// restarted master's cluster_state at fail for 2 s (CLUSTER_WRITABLE_DELAY)
// before it accepts commands, so recovery is bounded by 2 s + 1 s there.
func TestFaultCluster(t *testing.T) {
	topo, nodes := cluster(t)
	client := topo.newClient(t).(*redis.ClusterClient)
	for _, o := range []struct {
		name string
		make func(*testing.T, redis.UniversalClient) (faultOp, interface{ CircuitOpen() bool })
		pfx  string
	}{{"RateLimit", rateOp, redisstore.DefaultRateLimitPrefix}, {"Idempotency", idemOp, redisstore.DefaultIdempotencyPrefix}} {
		owner := func(t *testing.T, key string) *redisServer {
			m, err := client.MasterForKey(context.Background(), redisstore.RedisKey(o.pfx, key))
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range nodes {
				if n.Addr == m.Options().Addr {
					return n
				}
			}
			t.Fatalf("no node %s", m.Options().Addr)
			return nil
		}
		t.Run(o.name+"/Crash", func(t *testing.T) {
			op, br := o.make(t, client)
			key := "crash-" + o.name
			waitUp(t, op, key, time.Second)
			victim := owner(t, key)
			victim.Kill(t)
			checkOutage(t, op, br, key, false)
			victim.Restart(t)
			t.Logf("recovered %v after restart", waitUp(t, op, key, 3*time.Second))
		})
		t.Run(o.name+"/Hang", func(t *testing.T) {
			op, br := o.make(t, client)
			key := "hang-" + o.name
			waitUp(t, op, key, time.Second)
			victim := owner(t, key)
			victim.Pause(t)
			checkOutage(t, op, br, key, true)
			victim.Resume(t)
			t.Logf("recovered %v after resume", waitUp(t, op, key, time.Second))
		})
	}
}
