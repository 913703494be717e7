package redisstore

import (
	"testing"
	"time"
)

func TestBreakerTransitions(t *testing.T) {
	now := time.Unix(1e9, 0)
	b := newBreaker(config{threshold: 3, cooldown: time.Second}, "test")
	b.now = func() time.Time { return now }
	type step struct {
		name    string
		advance time.Duration
		allow   bool   // expected answer of allow
		result  string // "ok", "fail", "abort" for an allowed call
		open    bool   // isOpen after the step
	}
	steps := []step{
		{name: "closed admits", allow: true, result: "fail"},
		{name: "one failure keeps it closed", allow: true, result: "fail"},
		{name: "a success resets the count", allow: true, result: "ok"},
		{name: "failure 1", allow: true, result: "fail"},
		{name: "failure 2", allow: true, result: "fail"},
		{name: "failure 3 opens", allow: true, result: "fail", open: true},
		{name: "open refuses", advance: 999 * time.Millisecond, allow: false, open: true},
		{name: "after the cooldown one probe", advance: time.Millisecond, allow: true, open: true},
		{name: "only one probe at a time", allow: false, open: true},
	}
	run := func(steps []step) {
		t.Helper()
		for _, s := range steps {
			now = now.Add(s.advance)
			if got := b.allow(); got != s.allow {
				t.Fatalf("%s: allow %v", s.name, got)
			}
			switch s.result {
			case "ok":
				b.done(false, false)
			case "fail":
				b.done(true, false)
			case "abort":
				b.done(false, true)
			}
			if b.isOpen() != s.open {
				t.Fatalf("%s: open %v", s.name, b.isOpen())
			}
		}
	}
	run(steps)
	b.done(true, false) // the probe fails
	run([]step{
		{name: "a failed probe reopens for a full cooldown", advance: 999 * time.Millisecond, allow: false, open: true},
		{name: "next probe", advance: time.Millisecond, allow: true, result: "abort", open: true},
		{name: "an aborted probe (caller gone) lets the next call probe at once", allow: true, result: "ok"},
		{name: "closed again", allow: true, result: "fail"},
		{name: "the count restarted", allow: true, result: "fail"},
		{name: "third failure", allow: true, result: "fail", open: true},
	})
}
