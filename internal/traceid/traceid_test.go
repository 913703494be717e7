package traceid_test

import (
	"context"
	"testing"

	"github.com/jiec/httpmw/internal/traceid"
)

type carrier string

func (c carrier) TraceID() string { return string(c) }

func TestIDFromContext(t *testing.T) {
	ctx := context.Background()
	if got := traceid.ID(ctx); got != "" || traceid.From(ctx) != nil {
		t.Errorf("empty context: ID %q, From %v; want none", got, traceid.From(ctx))
	}
	ctx = traceid.With(ctx, carrier("abc"))
	if got := traceid.ID(ctx); got != "abc" {
		t.Errorf("ID = %q, want abc", got)
	}
	inner := traceid.With(ctx, carrier("def"))
	if traceid.ID(inner) != "def" || traceid.ID(ctx) != "abc" {
		t.Errorf("inner %q, outer %q; want def, abc", traceid.ID(inner), traceid.ID(ctx))
	}
	if got := traceid.ID(traceid.With(ctx, nil)); got != "" {
		t.Errorf("nil carrier: ID %q, want empty", got)
	}
}

func BenchmarkID(b *testing.B) {
	ctx := traceid.With(context.Background(), carrier("4bf92f3577b34da6a3ce929d0e0e4736"))
	b.ReportAllocs()
	for b.Loop() {
		_ = traceid.ID(ctx)
	}
}
