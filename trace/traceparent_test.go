package trace_test

import (
	"strings"
	"testing"

	"github.com/jiec/httpmw/trace"
)

const (
	tid = "12345678901234567890123456789012"
	pid = "1234567890123456"
	tp  = "00-" + tid + "-" + pid + "-01"
)

// traceparentCases covers every traceparent rule of W3C Trace Context
// Level 2 §3.2 and the w3c/trace-context test suite (test/test.py).
// They seed the fuzz target too.
var traceparentCases = []struct {
	desc   string
	values []string
	ok     bool
	flags  trace.Flags
}{
	{"valid sampled", []string{tp}, true, trace.FlagSampled},
	{"valid not sampled", []string{"00-" + tid + "-" + pid + "-00"}, true, 0},
	{"valid random flag (Level 2)", []string{"00-" + tid + "-" + pid + "-02"}, true, trace.FlagRandom},
	{"valid sampled and random", []string{"00-" + tid + "-" + pid + "-03"}, true, trace.FlagSampled | trace.FlagRandom},
	// §3.2.2.5: reserved bits are set to zero, not a reason to restart
	// (OTel-Go restarts on them, see restatedev/restate#5313).
	{"unknown flag bits cleared", []string{"00-" + tid + "-" + pid + "-ff"}, true, trace.FlagSampled | trace.FlagRandom},
	{"unknown flag bit alone", []string{"00-" + tid + "-" + pid + "-08"}, true, 0},
	{"leading space", []string{" " + tp}, true, trace.FlagSampled},
	{"leading tab", []string{"\t" + tp}, true, trace.FlagSampled},
	{"trailing space", []string{tp + " "}, true, trace.FlagSampled},
	{"trailing tab", []string{tp + "\t"}, true, trace.FlagSampled},
	{"OWS both sides", []string{"\t " + tp + " \t"}, true, trace.FlagSampled},

	{"no field", nil, false, 0},
	{"empty", []string{""}, false, 0},
	{"duplicated field lines", []string{tp, "00-" + tid[:31] + "1-" + pid + "-01"}, false, 0},
	{"identical duplicated field lines", []string{tp, tp}, false, 0},
	{"two values in one line", []string{tp + "," + tp}, false, 0},

	{"version 00 with trailing dot", []string{tp + "."}, false, 0},
	{"version 00 with future fields", []string{tp + "-what-the-future-will-be-like"}, false, 0},
	{"future version cc", []string{"cc-" + tid + "-" + pid + "-01"}, true, trace.FlagSampled},
	{"future version cc with future fields", []string{"cc-" + tid + "-" + pid + "-01-what-the-future-will-be-like"}, true, trace.FlagSampled},
	{"future version cc with bad separator", []string{"cc-" + tid + "-" + pid + "-01.what-the-future-will-be-like"}, false, 0},
	{"future version shorter than 55", []string{"cc-" + tid + "-" + pid + "-1"}, false, 0},
	{"future version 01", []string{"01-" + tid + "-" + pid + "-00"}, true, 0},
	{"future version with uppercase id", []string{"cc-" + strings.ToUpper("abcdef"+tid[6:]) + "-" + pid + "-01"}, false, 0},
	{"version ff forbidden", []string{"ff-" + tid + "-" + pid + "-01"}, false, 0},
	{"version illegal first char", []string{".0-" + tid + "-" + pid + "-01"}, false, 0},
	{"version illegal second char", []string{"0.-" + tid + "-" + pid + "-01"}, false, 0},
	{"version uppercase", []string{"0A-" + tid + "-" + pid + "-01"}, false, 0},
	{"version too long", []string{"000-" + tid + "-" + pid + "-01"}, false, 0},
	{"version too long 4", []string{"0000-" + tid + "-" + pid + "-01"}, false, 0},
	{"version too short", []string{"0-" + tid + "-" + pid + "-01"}, false, 0},

	{"trace-id all zero", []string{"00-00000000000000000000000000000000-" + pid + "-01"}, false, 0},
	{"trace-id illegal first char", []string{"00-." + tid[1:] + "-" + pid + "-01"}, false, 0},
	{"trace-id illegal last char", []string{"00-" + tid[:31] + ".-" + pid + "-01"}, false, 0},
	{"trace-id uppercase", []string{"00-4BF92F3577B34DA6A3CE929D0E0E4736-" + pid + "-01"}, false, 0},
	{"trace-id too long", []string{"00-" + tid + "3-" + pid + "-01"}, false, 0},
	{"trace-id too short", []string{"00-" + tid[:31] + "-" + pid + "-01"}, false, 0},

	{"parent-id all zero", []string{"00-" + tid + "-0000000000000000-01"}, false, 0},
	{"parent-id illegal first char", []string{"00-" + tid + "-." + pid[1:] + "-01"}, false, 0},
	{"parent-id illegal last char", []string{"00-" + tid + "-" + pid[:15] + ".-01"}, false, 0},
	{"parent-id uppercase", []string{"00-" + tid + "-00F067AA0BA902B7-01"}, false, 0},
	{"parent-id too long", []string{"00-" + tid + "-" + pid + "7-01"}, false, 0},
	{"parent-id too short", []string{"00-" + tid + "-" + pid[:15] + "-01"}, false, 0},

	{"flags illegal first char", []string{"00-" + tid + "-" + pid + "-.0"}, false, 0},
	{"flags illegal second char", []string{"00-" + tid + "-" + pid + "-0."}, false, 0},
	{"flags uppercase", []string{"00-" + tid + "-" + pid + "-0A"}, false, 0},
	{"flags too long", []string{"00-" + tid + "-" + pid + "-001"}, false, 0},
	{"flags too short", []string{"00-" + tid + "-" + pid + "-1"}, false, 0},

	{"wrong separator", []string{"00_" + tid + "-" + pid + "-01"}, false, 0},
	{"wrong separator after trace-id", []string{"00-" + tid + "_" + pid + "-01"}, false, 0},
	{"wrong separator before flags", []string{"00-" + tid + "-" + pid + "_01"}, false, 0},
	{"inner space", []string{"00-" + tid + " " + pid + "-01"}, false, 0},
}

func TestParseTraceparentFollowsTraceContext(t *testing.T) {
	for _, c := range traceparentCases {
		t.Run(c.desc, func(t *testing.T) {
			sc, err := trace.ParseTraceparent(c.values)
			if (err == nil) != c.ok {
				t.Fatalf("ParseTraceparent(%q) error = %v, want ok=%v", c.values, err, c.ok)
			}
			if !c.ok {
				return
			}
			if got := sc.TraceID.String(); got != tid {
				t.Errorf("trace-id = %s, want %s", got, tid)
			}
			if got := sc.ParentID.String(); got != pid {
				t.Errorf("parent-id = %s, want %s", got, pid)
			}
			if sc.Flags != c.flags {
				t.Errorf("flags = %02x, want %02x", sc.Flags, c.flags)
			}
		})
	}
}

func TestTraceparentFormatsVersion00(t *testing.T) {
	sc, err := trace.ParseTraceparent([]string{"cc-" + tid + "-" + pid + "-ff-future"})
	if err != nil {
		t.Fatal(err)
	}
	sc.SpanID = sc.ParentID
	// Version downgrade to 00 and reserved flags zeroed (§3.2.4, §3.2.2.5).
	if got, want := sc.Traceparent(), "00-"+tid+"-"+pid+"-03"; got != want {
		t.Errorf("Traceparent() = %q, want %q", got, want)
	}
}
