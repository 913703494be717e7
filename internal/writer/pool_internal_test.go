package writer

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

type holdAll struct{}

func (holdAll) Header(int) bool { return false }

// Reset keeps the detached header copy for the next request only while it
// is of a usual size: one response with a huge header does not pin that
// much memory in every pooled Writer.
func TestResetDropsOversizedHeaderCopy(t *testing.T) {
	for _, tc := range []struct {
		fields, values int
		kept           bool
	}{
		{fields: 10, values: 1, kept: true},
		{fields: maxPooledFields + 1, values: 1},
		{fields: 2, values: 4 * maxPooledFields},
	} {
		t.Run(fmt.Sprint(tc.fields, "x", tc.values), func(t *testing.T) {
			rec := httptest.NewRecorder()
			w := New(rec, holdAll{})
			for i := range tc.fields {
				for j := range tc.values {
					w.Header().Add(fmt.Sprintf("X-F%d", i), fmt.Sprint(j))
				}
			}
			w.WriteHeader(http.StatusOK)
			if len(w.Header()) != tc.fields {
				t.Fatalf("detached copy has %d fields, want %d", len(w.Header()), tc.fields)
			}
			w.Reset(httptest.NewRecorder(), holdAll{})
			if kept := w.late != nil; kept != tc.kept {
				t.Errorf("copy kept %v, want %v", kept, tc.kept)
			}
			if len(w.late) != 0 || len(w.lateVals) != 0 {
				t.Errorf("copy not emptied: %d fields, %d values", len(w.late), len(w.lateVals))
			}
		})
	}
}
