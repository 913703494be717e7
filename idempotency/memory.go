package idempotency

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// Defaults of MemoryConfig.
const (
	DefaultMaxEntries = 100_000
	DefaultMaxBytes   = 64 << 20
)

// ErrStoreClosed is returned by a MemoryStore after Close.
var ErrStoreClosed = errors.New("idempotency: store closed")

// ErrStoreFull is returned by MemoryStore.Acquire when every entry is a live
// lease and there is no room for another (the middleware answers 503).
var ErrStoreFull = errors.New("idempotency: store full of leases")

// ErrRecordTooLarge is returned by MemoryStore.Complete for a record larger
// than MaxBytes; the lease is released and nothing is stored.
var ErrRecordTooLarge = errors.New("idempotency: record larger than the store")

// MemoryConfig bounds a MemoryStore.
type MemoryConfig struct {
	// MaxEntries caps leases plus records. 0 means DefaultMaxEntries.
	MaxEntries int
	// MaxBytes caps the size of the stored records (bodies, header fields,
	// keys and a fixed overhead per entry). 0 means DefaultMaxBytes (64 MiB).
	MaxBytes int64
}

// MemoryStore is a bounded in-memory Store for one process. Expired entries
// are dropped when met and, oldest first, whenever room is needed; when an
// insert would exceed MaxEntries or MaxBytes the oldest completed records
// are evicted (a retry after eviction runs the handler again, as after the
// TTL). It starts no goroutine. It is safe for concurrent use.
type MemoryStore struct {
	maxEntries int
	maxBytes   int64
	now        func() time.Time // set from export_test.go

	mu      sync.Mutex
	entries map[string]*memEntry
	leases  memLists // live (or expired, not yet dropped) leases
	records memLists // completed records
	bytes   int64    // sum of the records' sizes
	seq     uint64   // lease tokens
	closed  bool
}

// entryOverhead approximates the bytes an entry costs besides its strings
// and body (map slot, entry struct, Record, header map).
const entryOverhead = 256

type memEntry struct {
	key         string
	fingerprint string
	token       string    // lease token; "" once completed
	expires     time.Time // lease or record expiry
	rec         Record
	done        bool // rec is a completed response
	size        int64

	prev, next *memEntry
	list       *memList
}

// memList is an intrusive doubly linked list of entries.
type memList struct{ head, tail *memEntry }

func (l *memList) push(e *memEntry) {
	e.list, e.prev, e.next = l, l.tail, nil
	if l.tail != nil {
		l.tail.next = e
	} else {
		l.head = e
	}
	l.tail = e
}

// memLists keeps entries in one list per duration (lease timeout or TTL),
// oldest first: the clock only moves forward, so within a list entries
// expire in order and the expired ones are at the head, even when stores
// are shared by middlewares with different TTLs.
type memLists struct{ ls []*durList }

type durList struct {
	d time.Duration
	memList
}

// maxDurLists bounds the lists; entries of further durations share the last
// one (their expiry order there is approximate).
const maxDurLists = 16

func (m *memLists) push(e *memEntry, d time.Duration) {
	var l *durList
	for _, x := range m.ls {
		if x.d == d {
			l = x
			break
		}
	}
	if l == nil {
		if len(m.ls) < maxDurLists {
			l = &durList{d: d}
			m.ls = append(m.ls, l)
		} else {
			l = m.ls[len(m.ls)-1]
		}
	}
	l.push(e)
}

// oldest returns the entry created first among the heads, or nil.
func (m *memLists) oldest() *memEntry {
	var best *memEntry
	var bestAt time.Time
	for _, l := range m.ls {
		if e := l.head; e != nil {
			if at := e.expires.Add(-l.d); best == nil || at.Before(bestAt) {
				best, bestAt = e, at
			}
		}
	}
	return best
}

func (l *memList) remove(e *memEntry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		l.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		l.tail = e.prev
	}
	e.prev, e.next, e.list = nil, nil, nil
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty MemoryStore. It reports negative limits.
func NewMemoryStore(cfg MemoryConfig) (*MemoryStore, error) {
	var errs []error
	if cfg.MaxEntries < 0 {
		errs = append(errs, fmt.Errorf("idempotency: MemoryConfig.MaxEntries: negative (value %d)", cfg.MaxEntries))
	}
	if cfg.MaxBytes < 0 {
		errs = append(errs, fmt.Errorf("idempotency: MemoryConfig.MaxBytes: negative (value %d)", cfg.MaxBytes))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	s := &MemoryStore{maxEntries: cfg.MaxEntries, maxBytes: cfg.MaxBytes, now: time.Now,
		entries: make(map[string]*memEntry)}
	if s.maxEntries == 0 {
		s.maxEntries = DefaultMaxEntries
	}
	if s.maxBytes == 0 {
		s.maxBytes = DefaultMaxBytes
	}
	return s, nil
}

// Acquire implements Store. The returned Record is shared: do not modify it.
func (s *MemoryStore) Acquire(_ context.Context, key, fingerprint string, leaseTimeout time.Duration) (Lease, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return Lease{}, ErrStoreClosed
	}
	now := s.now()
	if e := s.entries[key]; e != nil {
		if now.Before(e.expires) {
			if e.done {
				return Lease{Record: &e.rec}, nil
			}
			return Lease{Fingerprint: e.fingerprint, RetryAfter: e.expires.Sub(now)}, nil
		}
		s.drop(e)
	}
	if !s.room(now, 1, 0) {
		return Lease{}, ErrStoreFull
	}
	s.seq++
	e := &memEntry{key: key, fingerprint: fingerprint, token: strconv.FormatUint(s.seq, 36),
		expires: now.Add(leaseTimeout)}
	s.entries[key] = e
	s.leases.push(e, leaseTimeout)
	return Lease{Acquired: true, Token: e.token}, nil
}

// Complete implements Store. The store keeps rec as it is (its Header and
// Body are not copied): do not modify them afterwards.
func (s *MemoryStore) Complete(_ context.Context, key, token string, rec Record, ttl time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrStoreClosed
	}
	now := s.now()
	e := s.entries[key]
	if e == nil || e.done || e.token != token || !now.Before(e.expires) {
		return ErrLeaseLost
	}
	size := recordSize(key, &rec)
	s.drop(e)
	if size > s.maxBytes {
		return ErrRecordTooLarge
	}
	s.room(now, 1, size) // e's own slot was just freed, so the count fits
	// The lease's entry becomes the record's (it was never handed out).
	*e = memEntry{key: key, fingerprint: rec.Fingerprint, expires: now.Add(ttl), rec: rec, done: true, size: size}
	s.entries[key] = e
	s.records.push(e, ttl)
	s.bytes += size
	return nil
}

// Release implements Store.
func (s *MemoryStore) Release(_ context.Context, key, token string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrStoreClosed
	}
	e := s.entries[key]
	if e == nil || e.done || e.token != token || !s.now().Before(e.expires) {
		return ErrLeaseLost
	}
	s.drop(e)
	return nil
}

// Close drops every entry; later calls return ErrStoreClosed.
func (s *MemoryStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.entries = nil
	s.leases, s.records = memLists{}, memLists{}
	s.bytes = 0
	return nil
}

// Len returns the number of entries (leases and records, expired ones not
// yet dropped included).
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}

// Bytes returns the accounted size of the stored records.
func (s *MemoryStore) Bytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytes
}

// drop removes e.
func (s *MemoryStore) drop(e *memEntry) {
	delete(s.entries, e.key)
	if e.list != nil {
		e.list.remove(e)
	}
	s.bytes -= e.size
}

// room makes space for n more entries and size more bytes: expired leases
// and records first, then the oldest records. It reports false if live
// leases alone fill MaxEntries.
func (s *MemoryStore) room(now time.Time, n int, size int64) bool {
	s.dropExpired(&s.leases, now)
	s.dropExpired(&s.records, now)
	for len(s.entries)+n > s.maxEntries || s.bytes+size > s.maxBytes {
		e := s.records.oldest()
		if e == nil {
			return len(s.entries)+n <= s.maxEntries
		}
		s.drop(e)
	}
	return true
}

// dropExpired drops the expired entries at the heads of m's lists.
func (s *MemoryStore) dropExpired(m *memLists, now time.Time) {
	for _, l := range m.ls {
		for e := l.head; e != nil && !now.Before(e.expires); e = l.head {
			s.drop(e)
		}
	}
}

// recordSize is the accounted size of rec stored under key.
func recordSize(key string, rec *Record) int64 {
	n := int64(entryOverhead + len(key) + len(rec.Fingerprint) + len(rec.Body))
	for k, vs := range rec.Header {
		n += int64(len(k)) + 16
		for _, v := range vs {
			n += int64(len(v)) + 16
		}
	}
	return n
}
