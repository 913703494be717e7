package header_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/jiec/httpmw/internal/header"
)

var addVaryTests = []struct {
	desc     string
	existing []string // nil: no Vary field
	names    []string
	want     []string // nil: no Vary field
}{
	{"first name", nil, []string{"Accept-Encoding"}, []string{"Accept-Encoding"}},
	{"appended as a new line, existing kept", []string{"Origin"}, []string{"accept-encoding"}, []string{"Origin", "accept-encoding"}},
	{"duplicate ignored case-insensitively", []string{"Accept-Encoding"}, []string{"accept-encoding"}, []string{"Accept-Encoding"}},
	{"duplicate inside a list line", []string{"Origin, Accept-Encoding"}, []string{"ACCEPT-ENCODING"}, []string{"Origin, Accept-Encoding"}},
	{"duplicates among the names", nil, []string{"Origin", "origin", "Accept", "ORIGIN"}, []string{"Origin", "Accept"}},
	{"a name may be a list", nil, []string{"Accept, Origin ,, accept"}, []string{"Accept", "Origin"}},
	{"empty names add nothing", nil, []string{"", " ", ","}, nil},
	{"no names", []string{"Origin"}, nil, []string{"Origin"}},
	{"nothing is added next to *", []string{"*"}, []string{"Origin"}, []string{"*"}},
	{"nothing is added next to * in a list", []string{"Origin, *"}, []string{"Accept"}, []string{"Origin, *"}},
	{"* replaces the list", []string{"Origin", "Accept"}, []string{"*"}, []string{"*"}},
	{"* among the names wins", []string{"Origin"}, []string{"Accept", "*", "Cookie"}, []string{"*"}},
	{"* twice", []string{"*"}, []string{"*"}, []string{"*"}},
}

func TestAddVary(t *testing.T) {
	for _, tt := range addVaryTests {
		t.Run(tt.desc, func(t *testing.T) {
			h := http.Header{}
			if tt.existing != nil {
				h["Vary"] = slices.Clone(tt.existing)
			}
			header.AddVary(h, tt.names...)
			got, present := h["Vary"]
			if !slices.Equal(got, tt.want) || present != (tt.want != nil) {
				t.Errorf("Vary = %q (present %v), want %q", got, present, tt.want)
			}
		})
	}
}

func TestAddVaryNeverWritesSharedBackingArray(t *testing.T) {
	shared := make([]string, 1, 4)
	shared[0] = "Origin"
	a, b := http.Header{"Vary": shared}, http.Header{"Vary": shared}
	header.AddVary(a, "Accept-Encoding")
	header.AddVary(b, "Cookie")
	if got := a["Vary"]; !slices.Equal(got, []string{"Origin", "Accept-Encoding"}) {
		t.Errorf("a: Vary = %q", got)
	}
	if got := b["Vary"]; !slices.Equal(got, []string{"Origin", "Cookie"}) {
		t.Errorf("b: Vary = %q", got)
	}
	if extra := shared[:2][1]; extra != "" {
		t.Errorf("the shared backing array was written: %q", extra)
	}
}
