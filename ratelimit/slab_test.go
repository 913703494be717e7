package ratelimit_test

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/jiec/httpmw/ratelimit"
)

// keyStore records every key it is given, keeping the strings.
type keyStore struct {
	ratelimit.Store
	keys []string
}

func (s *keyStore) Take(ctx context.Context, key string, ps []ratelimit.Policy, cost int64, st []ratelimit.State) (bool, error) {
	s.keys = append(s.keys, key)
	return s.Store.Take(ctx, key, ps, cost, st)
}

// The fields and keys of many requests share slabs: every value stays what
// it was when its response was made, whatever later requests (and handlers
// editing their values in place) do, and the keys a Store keeps stay valid.
func TestFieldValuesAndKeysStayTheirOwnAcrossRequests(t *testing.T) {
	ms, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ks := &keyStore{Store: ms}
	for _, store := range []ratelimit.Store{nil, ks} {
		m := mustNew(t, ratelimit.Config{Store: store, LegacyHeaders: true,
			Policies: []ratelimit.Policy{{Name: "p", Limit: 1000, Period: time.Hour}}})
		vandal := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			for _, k := range []string{"Ratelimit", "Ratelimit-Policy", "X-Ratelimit-Remaining"} {
				h[k][0] = "vandalized"
				h[k] = append(h[k], "appended")
			}
			w.WriteHeader(204)
		})
		const n = 500
		var got []http.Header
		for i := range n {
			remote := fmt.Sprintf("[2001:db8:%x::1]:80", i)
			if i%2 == 0 {
				got = append(got, do(m.Handler(okHandler), remote).Header())
			} else {
				do(m.Handler(vandal), remote)
			}
		}
		for i, h := range got {
			if v := h["Ratelimit"]; len(v) != 1 || v[0] != `"p";r=999;t=4` {
				t.Fatalf("store %T, response %d: RateLimit %q", store, i, v)
			}
			if v := h["Ratelimit-Policy"]; len(v) != 1 || v[0] != `"p";q=1000;w=3600` {
				t.Fatalf("store %T, response %d: RateLimit-Policy %q", store, i, v)
			}
			if v := h["X-Ratelimit-Remaining"]; len(v) != 1 || v[0] != "999" {
				t.Fatalf("store %T, response %d: X-RateLimit-Remaining %q", store, i, v)
			}
		}
	}
	if len(ks.keys) != 500 {
		t.Fatalf("%d keys", len(ks.keys))
	}
	for i, k := range ks.keys {
		if want := netip.MustParsePrefix(fmt.Sprintf("2001:db8:%x::/64", i)).String(); k != want {
			t.Fatalf("key %d: %q, want %q", i, k, want)
		}
	}
}

// TestSlabFillsItsSizeClass: a slab is exactly 2048 bytes, a size class of
// the allocator (slabVals and slabBytes are sized together; see slots.Size).
func TestSlabFillsItsSizeClass(t *testing.T) {
	if ratelimit.SlabSize != 2048 {
		t.Fatalf("a slab is %d bytes, want 2048", ratelimit.SlabSize)
	}
}
