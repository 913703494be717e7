package ratelimit_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jiec/httpmw/ratelimit"
)

// TestLongFieldValuesOutgrowTheRequestBuffer: the per-request buffer holds
// one short policy's values; longer ones (several policies with 64-character
// names, the concurrency item, an IPv6 key, Retry-After and the legacy
// fields) are allocated, and every response keeps its own values.
func TestLongFieldValuesOutgrowTheRequestBuffer(t *testing.T) {
	names := []string{strings.Repeat("a", 64), strings.Repeat("b", 64), strings.Repeat("c", 64)}
	var ps []ratelimit.Policy
	for i, n := range names {
		ps = append(ps, ratelimit.Policy{Name: n, Limit: 999_999_999_000 + int64(i), Period: 1000 * time.Hour})
	}
	ps = append(ps, ratelimit.Policy{Name: "tiny", Limit: 1, Period: time.Hour})
	m := mustNew(t, ratelimit.Config{Policies: ps, LegacyHeaders: true, Concurrency: 5})
	h := m.Handler(okHandler)
	first := do(h, "[2001:db8:1:2:3:4:5:6]:1")
	second := do(h, "[2001:db8:1:2:3:4:5:6]:1")
	other := do(h, "[2001:db8:ffff:2:3:4:5:6]:1")
	if first.Code != 204 || second.Code != 429 || other.Code != 204 {
		t.Fatalf("codes %d %d %d, want 204 429 204", first.Code, second.Code, other.Code)
	}
	item := func(i int, rem int64, t string) string {
		return fmt.Sprintf("%q;r=%d%s", names[i], rem, t)
	}
	wantRL := map[string]string{
		"first":  strings.Join([]string{item(0, 999_999_998_999, ";t=1"), item(1, 999_999_999_000, ";t=1"), item(2, 999_999_999_001, ";t=1"), `"tiny";r=0;t=3600`, `"concurrency";r=4`}, ", "),
		"second": strings.Join([]string{item(0, 999_999_999_000, ""), item(1, 999_999_999_001, ""), item(2, 999_999_999_002, ""), `"tiny";r=0;t=3600`, `"concurrency";r=4`}, ", "),
	}
	for name, hdr := range map[string]map[string][]string{"first": first.Header(), "second": second.Header(), "other": other.Header()} {
		rl := strings.Join(hdr["Ratelimit"], "|")
		if w, ok := wantRL[name]; ok && rl != w {
			t.Errorf("%s: RateLimit\n%s\nwant\n%s", name, rl, w)
		}
		for _, n := range names {
			if !strings.Contains(rl, `"`+n+`";r=`) {
				t.Errorf("%s: RateLimit %q lacks policy %s", name, rl, n[:1])
			}
		}
		if !strings.Contains(rl, `"tiny";r=0;t=`) {
			t.Errorf("%s: RateLimit %q lacks tiny with r=0", name, rl)
		}
		if lim, rem := hdr["X-Ratelimit-Limit"], hdr["X-Ratelimit-Remaining"]; len(lim) != 1 || lim[0] != "1" || len(rem) != 1 || rem[0] != "0" {
			t.Errorf("%s: legacy fields %q %q, want the tiny policy's 1 and 0", name, lim, rem)
		}
		if name == "second" {
			if ra := hdr["Retry-After"]; len(ra) != 1 || ra[0] != "3600" {
				t.Errorf("second: Retry-After %q, want 3600", ra)
			}
		} else if hdr["Retry-After"] != nil {
			t.Errorf("%s: Retry-After %q on an admitted request", name, hdr["Retry-After"])
		}
	}
}
