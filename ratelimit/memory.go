package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"math/bits"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// MemoryConfig configures a MemoryStore.
type MemoryConfig struct {
	// MaxKeys bounds the entries held: one per (policy, key) pair that has
	// state. 0 means 100 000 (about 5.5 MB: an entry is ~53 bytes, no key bytes are kept). When a shard
	// is full, a new key evicts, from a sample of 8 entries of that shard,
	// one whose bucket is full again (it carries no state) or else the one
	// closest to full, so a flood of new keys sheds the least information
	// and rarely a limited client's state: a limited key is evicted only
	// once the sample holds no entry closer to full than it, so a flood of
	// fresh keys (one request each) never evicts it; an attacker must drain
	// other keys deeper than the victim, which took 0.7-1.7 × MaxKeys ×
	// (Limit+Burst) requests to reset one limited key (repeated runs of
	// TestFloodingFreshKeysDoesNotResetALimitedKey). Each shard holds at most
	// MaxKeys/Shards entries, so eviction can start a little before MaxKeys
	// entries in all (1M keys in a 2^20 store: 99.7% kept).
	MaxKeys int
	// Shards is the number of independently locked shards, a power of two;
	// 0 means 64.
	Shards int
}

var errZeroStore = errors.New("ratelimit: MemoryStore not made by NewMemoryStore")

// ErrClosed is returned by Take on a closed MemoryStore.
var ErrClosed = errors.New("ratelimit: store closed")

// MemoryStore is the in-process Store: GCRA in exact integer arithmetic,
// sharded maps under one mutex per shard, bounded by MaxKeys. It starts no
// goroutine; Close only makes later Takes fail. It is safe for concurrent use.
type MemoryStore struct {
	shards   []shard
	mask     uint64
	perShard int
	seed     maphash.Seed // key hashes
	nameSeed maphash.Seed // policy-name hashes
	base     time.Time
	clock    func() int64 // nanoseconds since base; replaced by tests
	closed   atomic.Bool
	sets     [4]atomic.Pointer[policySet]
	nextSet  atomic.Uint32
}

// shard maps the 64-bit keyed hash of (policy name, key) to its state. No
// key bytes are kept: an entry is 24 bytes in the map. Two distinct pairs
// share an entry only if their hashes collide, 2^-64 per pair under a random
// per-store seed that clients cannot learn (1M keys: ~3e-8 that any two
// collide at all).
type shard struct {
	mu sync.Mutex
	m  map[uint64]tat
	_  [48]byte // keep shards on separate cache lines
}

// tat is a GCRA theoretical arrival time, exactly ns + frac/Limit
// nanoseconds after the store's base (0 <= frac < Limit).
type tat struct {
	ns, frac int64
}

// NewMemoryStore returns an empty store, or an error naming a bad field.
func NewMemoryStore(cfg MemoryConfig) (*MemoryStore, error) {
	var errs []error
	if cfg.MaxKeys < 0 {
		errs = append(errs, fmt.Errorf("ratelimit: MemoryConfig.MaxKeys: must be >= 0 (value %d)", cfg.MaxKeys))
	}
	if cfg.Shards < 0 || cfg.Shards > 1<<16 || cfg.Shards&(cfg.Shards-1) != 0 {
		errs = append(errs, fmt.Errorf("ratelimit: MemoryConfig.Shards: must be 0 or a power of two up to 65536 (value %d)", cfg.Shards))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if cfg.MaxKeys == 0 {
		cfg.MaxKeys = 100_000
	}
	if cfg.Shards == 0 {
		cfg.Shards = 64
	}
	for cfg.Shards > 1 && cfg.MaxKeys/cfg.Shards < 16 {
		cfg.Shards /= 2 // tiny stores: fewer shards, so that the per-shard cap stays useful
	}
	s := &MemoryStore{
		shards:   make([]shard, cfg.Shards),
		mask:     uint64(cfg.Shards - 1),
		perShard: max(cfg.MaxKeys/cfg.Shards, 1),
		seed:     maphash.MakeSeed(),
		nameSeed: maphash.MakeSeed(),
		base:     time.Now(),
	}
	s.clock = func() int64 { return int64(time.Since(s.base)) }
	for i := range s.shards {
		s.shards[i].m = make(map[uint64]tat)
	}
	return s, nil
}

// Close releases nothing (there is no goroutine) but makes later Takes
// return ErrClosed. It is idempotent.
func (s *MemoryStore) Close() error {
	s.closed.Store(true)
	return nil
}

// Len returns the number of entries held.
func (s *MemoryStore) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}

// ErrInvalidPolicy is returned by Take for a policy that cannot be
// evaluated: Limit or Period <= 0, Burst < 0, or Limit+Burst periods that
// do not fit in int64 nanoseconds. New checks the same.
var ErrInvalidPolicy = errors.New("ratelimit: invalid policy")

// gcra holds one policy's constants for one Take: T = pq + pr/L ns is the
// emission interval, capacity = C*T = capNs + capF/L the delay tolerance.
type gcra struct {
	l, c, pq, pr, capNs, capF int64
}

func compilePolicy(p Policy) (g gcra, ok bool) {
	if p.Limit <= 0 || p.Period <= 0 || p.Burst < 0 || p.Burst > math.MaxInt64-p.Limit {
		return g, false
	}
	g.l, g.c = p.Limit, p.Limit+p.Burst
	g.pq, g.pr = int64(p.Period)/p.Limit, int64(p.Period)%p.Limit
	var ok1 bool
	g.capNs, g.capF, ok1 = g.times(g.c)
	return g, ok1 && g.capNs < 1<<61
}

// times returns n*T as ns + frac/L.
func (g *gcra) times(n int64) (ns, frac int64, ok bool) {
	hi, lo := bits.Mul64(uint64(n), uint64(g.pq))
	if hi != 0 || lo > math.MaxInt64 {
		return 0, 0, false
	}
	fh, fl := bits.Mul64(uint64(n), uint64(g.pr))
	q, r := bits.Div64(fh, fl, uint64(g.l)) // fh < l since pr < l
	ns = int64(lo) + int64(q)
	if ns < 0 || q > math.MaxInt64 {
		return 0, 0, false
	}
	return ns, int64(r), true
}

// add returns a + b for two ns + frac/L values.
func (g *gcra) add(ans, af, bns, bf int64) (int64, int64) {
	ns, f := ans+bns, af+bf
	if f >= g.l {
		ns, f = ns+1, f-g.l
	}
	return ns, f
}

// less reports a < b.
func less(ans, af, bns, bf int64) bool { return ans < bns || (ans == bns && af < bf) }

// state fills st for a delay d = dns + df/L (TAT - now, >= 0).
func (g *gcra) state(st *State, dns, df int64) {
	st.Reset = time.Duration(dns)
	if df > 0 {
		st.Reset++
	}
	if less(g.capNs, g.capF, dns, df) {
		st.Remaining = 0 // only after a policy change shrank the capacity
		return
	}
	// Remaining = C - ceil(d/T) = C - ceil((dns*L + df) / P).
	hi, lo := bits.Mul64(uint64(dns), uint64(g.l))
	lo, carry := bits.Add64(lo, uint64(df), 0)
	p := uint64(g.pq)*uint64(g.l) + uint64(g.pr)
	q, r := bits.Div64(hi+carry, lo, p)
	if r > 0 {
		q++
	}
	st.Remaining = g.c - int64(q)
	if st.Remaining < 0 {
		st.Remaining = 0
	}
}

const maxInline = 4

// policySet is a []Policy compiled once: its GCRA constants and name
// hashes. The store keeps the last few sets it saw (a Middleware passes the
// same slice every time), so a Take normally divides only once.
type policySet struct {
	ps []Policy
	gs []gcra
	nh []uint64
}

func (s *MemoryStore) policySet(policies []Policy) (*policySet, bool) {
	for i := range s.sets {
		if c := s.sets[i].Load(); c != nil && slices.Equal(c.ps, policies) {
			return c, true
		}
	}
	c := &policySet{ps: slices.Clone(policies), gs: make([]gcra, len(policies)), nh: make([]uint64, len(policies))}
	for i, p := range policies {
		g, ok := compilePolicy(p)
		if !ok {
			return nil, false
		}
		c.gs[i], c.nh[i] = g, maphash.String(s.nameSeed, p.Name)
	}
	s.sets[s.nextSet.Add(1)%uint32(len(s.sets))].Store(c)
	return c, true
}

// delay returns TAT - now (>= 0) for the entry t.
func (g *gcra) delay(t tat, now int64) (int64, int64) {
	dns, df := t.ns-now, t.frac
	if dns < 0 || (dns == 0 && df == 0) {
		return 0, 0
	}
	return dns, min(df, g.l-1) // a frac >= l: the policy's Limit changed since
}

// charge returns d + cost*T.
func (g *gcra) charge(dns, df, cost int64) (int64, int64) {
	incNs, incF := g.pq, g.pr
	if cost != 1 {
		var ok bool
		if incNs, incF, ok = g.times(cost); !ok {
			incNs, incF = math.MaxInt64/4, 0
		}
	}
	return g.add(dns, df, incNs, incF)
}

// Take implements Store: GCRA per policy, all-or-nothing under the key's
// shard lock.
func (s *MemoryStore) Take(_ context.Context, key string, policies []Policy, cost int64, states []State) (bool, error) {
	if s.closed.Load() {
		return false, ErrClosed
	}
	if len(s.shards) == 0 {
		return false, errZeroStore
	}
	if cost < 1 || len(states) < len(policies) {
		return false, ErrInvalidPolicy
	}
	set, ok := s.policySet(policies)
	if !ok {
		return false, ErrInvalidPolicy
	}
	// Every policy's charged state is computed before any is written: a
	// write may evict another entry of this key, which must not then be
	// read back as empty. Up to maxInline policies this lives on the stack.
	var (
		nextBuf   [maxInline]tat
		existsBuf [maxInline]bool
		next      = nextBuf[:]
		exists    = existsBuf[:]
		allOK     = true
		evicted   bool
	)
	if len(policies) > maxInline {
		next, exists = make([]tat, len(policies)), make([]bool, len(policies))
	}
	h := maphash.String(s.seed, key)
	sh := &s.shards[h>>48&s.mask]
	now := s.clock()
	sh.mu.Lock()
	for i := range policies {
		g := &set.gs[i]
		t, found := sh.m[h^set.nh[i]]
		dns, df := g.delay(t, now)
		nns, nf := g.charge(dns, df, cost)
		st := &states[i]
		st.Allowed = !less(g.capNs, g.capF, nns, nf)
		st.RetryAfter = 0
		next[i], exists[i] = tat{nns, nf}, found
		if !st.Allowed {
			allOK = false
			// Admitted once d has shrunk to capacity - cost*T.
			w, wf := nns-g.capNs, nf-g.capF
			if wf < 0 {
				w, wf = w-1, wf+g.l
			}
			if wf > 0 {
				w++
			}
			st.RetryAfter = time.Duration(w)
			if cost > g.c {
				st.RetryAfter = time.Duration(math.MaxInt64) // never
			}
		}
	}
	for i := range policies {
		g, st := &set.gs[i], &states[i]
		d := next[i]
		if !allOK {
			// Nothing is charged (nothing was written either): every
			// policy reports its state without this request.
			d.ns, d.frac = g.delay(sh.m[h^set.nh[i]], now)
		}
		g.state(st, d.ns, d.frac)
		if allOK {
			// After an eviction, an entry found before may be the one it
			// took: look again rather than overfill the shard.
			if s.store(sh, h, set.nh, i, exists[i] && !evicted, tat{d.ns + now, d.frac}, now) {
				evicted = true
			}
		}
	}
	sh.mu.Unlock()
	return allOK, nil
}

// store writes t for the entry of key hash h and policy i (its name hash
// nh[i]), evicting at the shard's cap; it reports whether it evicted an
// entry. exists is a promise that the entry is in sh.m. The victim is never
// another entry of this key under these policies (written by this Take, or
// about to be), unless the shard holds nothing else. sh.mu is held.
func (s *MemoryStore) store(sh *shard, h uint64, nh []uint64, i int, exists bool, t tat, now int64) (evicted bool) {
	ek := h ^ nh[i]
	if !exists && len(sh.m) >= s.perShard {
		if _, ok := sh.m[ek]; ok {
			sh.m[ek] = t
			return false
		}
		var (
			victim, own uint64
			vt, ot      = int64(math.MaxInt64), int64(math.MaxInt64)
			found       bool
			n           int
		)
	sample:
		for k, e := range sh.m {
			for _, x := range nh {
				if k^h == x {
					if e.ns < ot {
						own, ot = k, e.ns
					}
					continue sample
				}
			}
			if e.ns <= now {
				victim, found = k, true
				break
			}
			if e.ns < vt {
				victim, vt, found = k, e.ns, true
			}
			if n++; n == 8 {
				break
			}
		}
		if !found {
			victim = own
		}
		delete(sh.m, victim)
		evicted = true
	}
	sh.m[ek] = t
	return evicted
}
