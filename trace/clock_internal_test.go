package trace

import (
	"testing"
	"time"
)

// The trace-id clock adds monotonic time to an anchor under a second old,
// and re-anchors on the wall clock when the anchor is older (so a stepped
// wall clock is followed within a second).
func TestMilliClockFollowsTheWallClockWithinASecond(t *testing.T) {
	var c milliClock
	before := time.Now().UnixMilli()
	if ms := c.unixMilli(); ms < before || ms > time.Now().UnixMilli() {
		t.Fatalf("first reading %d, wall clock from %d", ms, before)
	}
	// A fresh anchor whose wall time is an hour ahead (as after a step
	// of the wall clock): trusted for under a second.
	now := time.Now()
	c.anchor.Store(&clockAnchor{t: now, unixNano: now.UnixNano() + int64(time.Hour)})
	if ms := c.unixMilli(); ms < now.Add(time.Hour).UnixMilli() || ms > time.Now().Add(time.Hour).UnixMilli() {
		t.Fatalf("reading from a fresh anchor %d, want the anchor's wall time plus the elapsed time", ms)
	}
	// The same anchor, more than a second old: the wall clock again.
	old := now.Add(-2 * time.Second)
	c.anchor.Store(&clockAnchor{t: old, unixNano: old.UnixNano() + int64(time.Hour)})
	before = time.Now().UnixMilli()
	if ms := c.unixMilli(); ms < before || ms > time.Now().UnixMilli() {
		t.Fatalf("reading from a stale anchor %d, want the wall clock (%d)", ms, before)
	}
	if a := c.anchor.Load(); time.Since(a.t) > time.Second {
		t.Fatal("stale anchor kept")
	}
	// A nil clock (a Middleware not made by New) reads the wall clock.
	var nc *milliClock
	if ms := nc.unixMilli(); ms < before {
		t.Fatalf("nil clock %d", ms)
	}
}
