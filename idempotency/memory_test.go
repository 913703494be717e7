package idempotency_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jiec/httpmw/idempotency"
)

var ctx = context.Background()

// clockStore is a MemoryStore on a settable clock.
func clockStore(t *testing.T, cfg idempotency.MemoryConfig) (*idempotency.MemoryStore, *time.Time) {
	t.Helper()
	s, err := idempotency.NewMemoryStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	s.SetClock(func() time.Time { return now })
	t.Cleanup(func() { s.Close() })
	return s, &now
}

func complete(t *testing.T, s *idempotency.MemoryStore, key string, body []byte) {
	t.Helper()
	l, err := s.Acquire(ctx, key, "fp", time.Minute)
	if err != nil || !l.Acquired {
		t.Fatalf("Acquire %s: %+v %v", key, l, err)
	}
	if err := s.Complete(ctx, key, l.Token, idempotency.Record{Fingerprint: "fp", Status: 201, Body: body}, time.Hour); err != nil {
		t.Fatalf("Complete %s: %v", key, err)
	}
}

func TestMemoryStoreLeaseLifecycle(t *testing.T) {
	s, now := clockStore(t, idempotency.MemoryConfig{})
	l, _ := s.Acquire(ctx, "k", "fp1", 30*time.Second)
	if !l.Acquired || l.Token == "" {
		t.Fatalf("first Acquire %+v", l)
	}
	*now = now.Add(10 * time.Second)
	busy, _ := s.Acquire(ctx, "k", "fp2", 30*time.Second)
	if busy.Acquired || busy.Record != nil || busy.Fingerprint != "fp1" || busy.RetryAfter != 20*time.Second {
		t.Fatalf("busy %+v", busy)
	}
	if err := s.Complete(ctx, "k", "wrong", idempotency.Record{}, time.Hour); !errors.Is(err, idempotency.ErrLeaseLost) {
		t.Fatalf("Complete with a wrong token: %v", err)
	}
	if err := s.Release(ctx, "k", "wrong"); !errors.Is(err, idempotency.ErrLeaseLost) {
		t.Fatalf("Release with a wrong token: %v", err)
	}
	rec := idempotency.Record{Fingerprint: "fp1", Status: 201, Header: http.Header{"Location": {"/p/1"}}, Body: []byte("ok")}
	if err := s.Complete(ctx, "k", l.Token, rec, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.Release(ctx, "k", l.Token); !errors.Is(err, idempotency.ErrLeaseLost) {
		t.Fatalf("Release after Complete: %v", err)
	}
	got, _ := s.Acquire(ctx, "k", "fp1", 30*time.Second)
	if got.Acquired || got.Record == nil || string(got.Record.Body) != "ok" || got.Record.Fingerprint != "fp1" {
		t.Fatalf("replay %+v", got)
	}
	*now = now.Add(time.Hour) // TTL over
	if again, _ := s.Acquire(ctx, "k", "fp1", 30*time.Second); !again.Acquired {
		t.Fatalf("after TTL %+v", again)
	}
}

func TestMemoryStoreExpiredLeaseIsFree(t *testing.T) {
	s, now := clockStore(t, idempotency.MemoryConfig{})
	l, _ := s.Acquire(ctx, "k", "fp", 30*time.Second)
	*now = now.Add(30 * time.Second)
	l2, _ := s.Acquire(ctx, "k", "fp", 30*time.Second)
	if !l2.Acquired || l2.Token == l.Token {
		t.Fatalf("%+v", l2)
	}
	if err := s.Complete(ctx, "k", l.Token, idempotency.Record{}, time.Hour); !errors.Is(err, idempotency.ErrLeaseLost) {
		t.Fatalf("old holder's Complete: %v", err)
	}
	if err := s.Release(ctx, "k", l2.Token); err != nil {
		t.Fatal(err)
	}
	if l3, _ := s.Acquire(ctx, "k", "fp", 30*time.Second); !l3.Acquired {
		t.Fatalf("after Release %+v", l3)
	}
	*now = now.Add(31 * time.Second)
	if err := s.Release(ctx, "k", "x"); !errors.Is(err, idempotency.ErrLeaseLost) {
		t.Fatalf("Release of an expired lease: %v", err)
	}
}

func TestMemoryStoreMaxEntriesEvictsOldestRecords(t *testing.T) {
	s, _ := clockStore(t, idempotency.MemoryConfig{MaxEntries: 10})
	for i := range 1000 {
		complete(t, s, "k"+strconv.Itoa(i), []byte("body"))
		if s.Len() > 10 {
			t.Fatalf("Len %d after %d records", s.Len(), i+1)
		}
	}
	if l, _ := s.Acquire(ctx, "k999", "fp", time.Minute); l.Record == nil {
		t.Fatal("newest record evicted")
	}
	if l, _ := s.Acquire(ctx, "k0", "fp", time.Minute); !l.Acquired {
		t.Fatal("oldest record kept")
	}
}

func TestMemoryStoreMaxBytes(t *testing.T) {
	const max = 64 << 10
	s, _ := clockStore(t, idempotency.MemoryConfig{MaxBytes: max})
	body := []byte(strings.Repeat("x", 1000))
	for i := range 1000 {
		complete(t, s, "k"+strconv.Itoa(i), body)
		if b := s.Bytes(); b > max {
			t.Fatalf("Bytes %d after %d records", b, i+1)
		}
	}
	if s.Len() < 40 {
		t.Fatalf("only %d records kept", s.Len())
	}
	// A record larger than the store is not stored; the key is free again.
	l, _ := s.Acquire(ctx, "big", "fp", time.Minute)
	err := s.Complete(ctx, "big", l.Token, idempotency.Record{Body: make([]byte, max)}, time.Hour)
	if !errors.Is(err, idempotency.ErrRecordTooLarge) {
		t.Fatalf("Complete of a huge record: %v", err)
	}
	if l, _ := s.Acquire(ctx, "big", "fp", time.Minute); !l.Acquired {
		t.Fatal("key not free after a record too large")
	}
}

func TestMemoryStoreFullOfLeases(t *testing.T) {
	s, now := clockStore(t, idempotency.MemoryConfig{MaxEntries: 3})
	for i := range 3 {
		if l, err := s.Acquire(ctx, "k"+strconv.Itoa(i), "fp", time.Duration(i+1)*time.Minute); err != nil || !l.Acquired {
			t.Fatal(err)
		}
	}
	if _, err := s.Acquire(ctx, "k3", "fp", time.Minute); !errors.Is(err, idempotency.ErrStoreFull) {
		t.Fatalf("full: %v", err)
	}
	*now = now.Add(2 * time.Minute) // k0 and k1 expire
	if l, err := s.Acquire(ctx, "k3", "fp", time.Minute); err != nil || !l.Acquired {
		t.Fatalf("after expiry: %+v %v", l, err)
	}
	if s.Len() > 3 {
		t.Fatalf("Len %d", s.Len())
	}
}

func TestMemoryStoreClose(t *testing.T) {
	s, _ := clockStore(t, idempotency.MemoryConfig{})
	complete(t, s, "k", nil)
	s.Close()
	if _, err := s.Acquire(ctx, "k", "fp", time.Minute); !errors.Is(err, idempotency.ErrStoreClosed) {
		t.Fatal(err)
	}
	if err := s.Complete(ctx, "k", "t", idempotency.Record{}, time.Hour); !errors.Is(err, idempotency.ErrStoreClosed) {
		t.Fatal(err)
	}
	if err := s.Release(ctx, "k", "t"); !errors.Is(err, idempotency.ErrStoreClosed) {
		t.Fatal(err)
	}
	if s.Len() != 0 {
		t.Fatal(s.Len())
	}
}

func TestMemoryStoreIsUsedThroughMiddlewareWithBounds(t *testing.T) {
	s, _ := clockStore(t, idempotency.MemoryConfig{MaxEntries: 50})
	p := &payment{}
	h := newMW(t, idempotency.Config{Store: s}).Handler(p)
	for i := range 500 { // hostile: a new key on every request
		do(h, post("k"+strconv.Itoa(i), "a"))
	}
	if s.Len() > 50 {
		t.Fatalf("Len %d", s.Len())
	}
}
