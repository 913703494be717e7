package ratelimit

import (
	"errors"
	"hash/maphash"
	"math"
	"math/bits"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jiec/httpmw/internal/forwarded"
)

// Middleware limits requests per key. It is safe for concurrent use. A nil
// or zero Middleware (New not called) limits nothing: its Handler passes
// every request through undecorated, as in every package of this module.
type Middleware struct {
	c         *compiled
	inflight  *inflight
	lastLog   atomic.Int64
	isTrusted forwarded.Trusted
	slabs     slabPool
}

// New validates cfg (all problems at once, errors.Join; messages name the
// field and value) and precomputes the static fields and problem documents.
func New(cfg Config) (*Middleware, error) {
	c, err := compile(cfg)
	if err != nil {
		return nil, err
	}
	m := &Middleware{c: c}
	m.isTrusted = m.trustedAddr
	if c.concurrency > 0 {
		m.inflight = newInflight()
	}
	return m, nil
}

// Close closes the MemoryStore New created when Config.Store was nil; a
// Store passed in is the caller's to close.
func (m *Middleware) Close() error {
	if m != nil && m.c != nil && m.c.ownStore != nil {
		return m.c.ownStore.Close()
	}
	return nil
}

const (
	hdrPolicy     = "Ratelimit-Policy"
	hdrRateLimit  = "Ratelimit"
	hdrRetryAfter = "Retry-After"
	hdrXLimit     = "X-Ratelimit-Limit"
	hdrXRemaining = "X-Ratelimit-Remaining"
	hdrXReset     = "X-Ratelimit-Reset"
)

// Handler returns next wrapped by the limiter.
func (m *Middleware) Handler(next http.Handler) http.Handler {
	if m == nil || m.c == nil {
		return next
	}
	return &handler{m: m, next: next}
}

type handler struct {
	m    *Middleware
	next http.Handler
}

// What ServeHTTP does after admit.
const (
	rejected = iota // admit answered
	pass            // next runs
	passHeld        // next runs holding a concurrency slot, released after
)

// ServeHTTP keeps a small frame on the stack while next runs (HTTP/2 runs
// every request on a fresh goroutine whose stack grows by copying): the
// decision, with its states on admit's stack, is made in admit, which
// returns first.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch key, v := h.m.admit(w, r); v {
	case pass:
		h.next.ServeHTTP(w, r)
	case passHeld:
		h.serveHeld(w, r, key)
	}
}

// serveHeld runs next and then releases the concurrency slot of key, also
// when next panics.
//
//go:noinline
func (h *handler) serveHeld(w http.ResponseWriter, r *http.Request, key string) {
	defer h.m.inflight.release(key)
	h.next.ServeHTTP(w, r)
}

// admit decides the request: it sets the fields and answers a rejection
// itself (rejected), or says whether next runs holding a concurrency slot
// of key (passHeld: the caller releases it) or not (pass).
//
//go:noinline
func (m *Middleware) admit(w http.ResponseWriter, r *http.Request) (string, int) {
	c := m.c
	if c.exempt != nil && c.exempt(r) {
		return "", pass
	}
	q := request{s: m.slabs.get(), copyKey: !c.memStore}
	defer m.slabs.put(q.s) // also when a Store, cost func or error handler panics: what was taken stays taken
	key, err := m.key(r, &q)
	if err != nil {
		c.onError(w, r, &KeyError{Err: err})
		return "", rejected
	}
	if m.inflight == nil {
		return "", m.limit(w, r, &q, key)
	}
	n, ok := m.inflight.acquire(key, c.concurrency)
	if !ok {
		m.writeFields(w, &q, nil, false, c.concurrency-n)
		q.retryOne(w)
		c.onError(w, r, &LimitError{Violated: []string{concurrencyPolicy}, RetryAfter: time.Second})
		return "", rejected
	}
	v := rejected
	defer func() {
		// Released here unless next runs with it: when the request is
		// rejected or the Store, cost func or error handler panics.
		if v != passHeld {
			m.inflight.release(key)
		}
	}()
	if v = m.limit(w, r, &q, key); v == pass {
		v = passHeld
	}
	return key, v
}

// limit takes cost units for key from every policy, sets the fields and
// answers a rejection (rejected); pass lets the request through.
func (m *Middleware) limit(w http.ResponseWriter, r *http.Request, q *request, key string) int {
	c := m.c
	cost := int64(1)
	if c.cost != nil {
		cost = max(c.cost(r), 1)
	}
	// The states live on the stack for a *MemoryStore; another Store
	// (an interface call) gets a slice of their own.
	var inline [4]State
	states := inline[:min(len(c.policies), len(inline))]
	var ok bool
	var err error
	if ms, isMem := c.store.(*MemoryStore); isMem && len(c.policies) <= len(inline) {
		ok, err = ms.Take(r.Context(), key, c.policies, cost, states)
	} else {
		hs := make([]State, len(c.policies))
		ok, err = c.store.Take(r.Context(), key, c.policies, cost, hs)
		states = hs
	}
	if err != nil {
		if c.failOpen {
			m.logStoreError(r, err)
			return pass
		}
		q.retryOne(w)
		c.onError(w, r, &StoreError{Err: err})
		return rejected
	}
	var inflightLeft int64 = -1
	if m.inflight != nil {
		inflightLeft = c.concurrency - m.inflight.count(key)
	}
	retry := m.writeFields(w, q, states, !ok, inflightLeft)
	if !ok {
		var violated []string
		for i := range states {
			if !states[i].Allowed {
				violated = append(violated, c.policies[i].Name)
			}
		}
		c.onError(w, r, &LimitError{Violated: violated, RetryAfter: retry})
		return rejected
	}
	return pass
}

// retryOne sets Retry-After: 1 (a value of this response's own: no slice
// is shared between responses, so a handler writing in place harms none).
func (q *request) retryOne(w http.ResponseWriter) {
	w.Header()[hdrRetryAfter] = q.take("1")
}

// ceilSeconds rounds d up to whole seconds.
func ceilSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}

// nextUnit returns when the policy gains its next unit: t of the RateLimit
// field. Remaining = C - ceil(Reset/T), so the next unit comes when Reset
// has shrunk to (C-Remaining-1)*T.
func nextUnit(p Policy, st *State) time.Duration {
	k := p.Limit + p.Burst - st.Remaining - 1
	if k <= 0 {
		return st.Reset
	}
	hi, lo := bits.Mul64(uint64(k), uint64(p.Period))
	if hi >= uint64(p.Limit) {
		return st.Reset
	}
	q, _ := bits.Div64(hi, lo, uint64(p.Limit))
	if q > math.MaxInt64 || time.Duration(q) > st.Reset {
		return 0
	}
	return st.Reset - time.Duration(q)
}

// writeFields sets RateLimit-Policy, RateLimit (and Retry-After when
// limited, the legacy fields when configured). It returns the Retry-After
// delay: the largest RetryAfter of the policies that denied the request.
func (m *Middleware) writeFields(w http.ResponseWriter, q *request, states []State, limited bool, inflightLeft int64) time.Duration {
	c := m.c
	h := w.Header()
	h[hdrPolicy] = q.take(c.policyField[0])
	b := q.appender()
	var retry time.Duration
	minI := -1
	for i := range states {
		st := &states[i]
		p := c.policies[i]
		if len(b) > 0 {
			b = append(b, ", "...)
		}
		b = append(b, '"')
		b = append(b, p.Name...)
		b = append(b, `";r=`...)
		b = strconv.AppendInt(b, max(st.Remaining, 0), 10) // non-negative, whatever a Store says
		var t time.Duration
		if !st.Allowed {
			t = st.RetryAfter
			if t == time.Duration(math.MaxInt64) { // cost over capacity: never; say one period
				t = p.Period
			}
			retry = max(retry, t)
		} else if st.Reset > 0 {
			t = nextUnit(p, st)
		}
		if t > 0 {
			b = append(b, ";t="...)
			b = strconv.AppendInt(b, ceilSeconds(t), 10)
		}
		if minI < 0 || st.Remaining < states[minI].Remaining {
			minI = i
		}
	}
	if inflightLeft >= 0 {
		if len(b) > 0 {
			b = append(b, ", "...)
		}
		b = append(b, `"concurrency";r=`...)
		b = strconv.AppendInt(b, max(inflightLeft, 0), 10)
	}
	h[hdrRateLimit] = q.take(q.commit(b))
	if limited {
		b = strconv.AppendInt(q.appender(), max(ceilSeconds(retry), 1), 10)
		h[hdrRetryAfter] = q.take(q.commit(b))
	}
	if c.legacy && minI >= 0 {
		writeLegacy(h, q, c.policies[minI], &states[minI])
	}
	return retry
}

// writeLegacy sets the opt-in X-RateLimit-* fields from the policy closest
// to its limit. Out of writeFields, whose frame is on the stack of every
// request: three more inlined values would make it larger for all.
//
//go:noinline
func writeLegacy(h http.Header, q *request, p Policy, st *State) {
	h[hdrXLimit] = q.take(q.commit(strconv.AppendInt(q.appender(), p.Limit+p.Burst, 10)))
	h[hdrXRemaining] = q.take(q.commit(strconv.AppendInt(q.appender(), st.Remaining, 10)))
	h[hdrXReset] = q.take(q.commit(strconv.AppendInt(q.appender(), ceilSeconds(st.Reset), 10)))
}

var (
	errEmptyKey = errors.New("empty key")
	errLongKey  = errors.New("key longer than MaxKeyLen")
)

// key returns the request's key: KeyFunc's, or the client address masked to
// its prefix ("198.51.100.7", "2001:db8:1:2::/64"), written into q.
func (m *Middleware) key(r *http.Request, q *request) (string, error) {
	c := m.c
	if c.keyFunc != nil {
		k, err := c.keyFunc(r)
		switch {
		case err != nil:
			return "", err
		case k == "":
			return "", errEmptyKey
		case len(k) > c.maxKeyLen:
			return "", errLongKey
		}
		return k, nil
	}
	if len(c.trusted) == 0 && c.v4 == 32 {
		// The common case, an IPv4 peer keyed by its whole address: the
		// text of RemoteAddr up to the port is the key (no parsing into
		// netip.Addr and back, no bytes copied).
		if _, n, ok := ipv4Port(r.RemoteAddr); ok {
			return r.RemoteAddr[:n], nil
		}
	}
	a, ok := m.ClientIP(r)
	if !ok {
		// No IP peer (a Unix socket, a test): one bucket per RemoteAddr.
		ra := r.RemoteAddr
		if len(ra) > 64 {
			ra = ra[:64]
		}
		return q.commitKey(append(append(q.appender(), "remote:"...), ra...)), nil
	}
	bitsLen := c.v4
	if a.Is6() {
		bitsLen = c.v6
	}
	b := q.appender()
	if bitsLen == a.BitLen() {
		b = a.AppendTo(b)
	} else {
		p, _ := a.Prefix(bitsLen)
		b = p.AppendTo(b)
	}
	return q.commitKey(b), nil
}

// ClientIP returns the client address the middleware keys r by (see
// Config.TrustedProxies), unmapped and without a zone; ok is false when
// RemoteAddr holds no IP address. KeyFuncs can build on it.
func (m *Middleware) ClientIP(r *http.Request) (netip.Addr, bool) {
	peer, ok := peerAddr(r.RemoteAddr)
	if !ok {
		return netip.Addr{}, false
	}
	if m == nil || m.c == nil || len(m.c.trusted) == 0 {
		return peer, true
	}
	if m.c.forwarded {
		return forwarded.ClientForwarded(peer, r.Header[headerForwarded], m.isTrusted), true
	}
	return forwarded.ClientXFF(peer, r.Header[headerXFF], m.isTrusted), true
}

func (m *Middleware) trustedAddr(a netip.Addr) bool {
	for _, p := range m.c.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func (m *Middleware) logStoreError(r *http.Request, err error) {
	now := time.Now().UnixNano()
	last := m.lastLog.Load()
	if now-last < int64(time.Second) || !m.lastLog.CompareAndSwap(last, now) {
		return
	}
	m.c.logger.LogAttrs(r.Context(), slogWarn, "ratelimit: store failed, request admitted (fail open)", slogErr(err))
}

// inflight counts the running requests per key, sharded.
type inflight struct {
	seed   maphash.Seed
	shards [32]struct {
		mu sync.Mutex
		m  map[string]int64
	}
}

func newInflight() *inflight {
	f := &inflight{seed: maphash.MakeSeed()}
	for i := range f.shards {
		f.shards[i].m = map[string]int64{}
	}
	return f
}

// acquire counts one more request for key unless limit are running; it
// returns the count after.
func (f *inflight) acquire(key string, limit int64) (int64, bool) {
	sh := &f.shards[maphash.String(f.seed, key)&31]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	n := sh.m[key]
	if n >= limit {
		return n, false
	}
	sh.m[key] = n + 1
	return n + 1, true
}

func (f *inflight) release(key string) {
	sh := &f.shards[maphash.String(f.seed, key)&31]
	sh.mu.Lock()
	if n := sh.m[key] - 1; n > 0 {
		sh.m[key] = n
	} else {
		delete(sh.m, key) // entries exist only while requests run
	}
	sh.mu.Unlock()
}

func (f *inflight) count(key string) int64 {
	sh := &f.shards[maphash.String(f.seed, key)&31]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.m[key]
}
