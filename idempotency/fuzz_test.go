package idempotency_test

import (
	"strings"
	"testing"

	"github.com/jiec/httpmw/idempotency"
)

func FuzzParseKey(f *testing.F) {
	for _, tt := range keyTests {
		f.Add(strings.Join(tt.values, "\n"))
	}
	f.Fuzz(func(t *testing.T, s string) {
		values := strings.Split(s, "\n")
		key, err := idempotency.ParseKey(values)
		if err != nil {
			return
		}
		if len(values) != 1 || key == "" || len(key) > idempotency.MaxKeyLength {
			t.Fatalf("accepted %q as %q", values, key)
		}
		for i := 0; i < len(key); i++ {
			if key[i] < ' ' || key[i] > '~' {
				t.Fatalf("key %q has a non-printable byte", key)
			}
		}
		// The quoted form of an accepted key names the same key.
		q := `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(key) + `"`
		if k2, err := idempotency.ParseKey([]string{q}); err != nil || k2 != key {
			t.Fatalf("%q: quoted form %q gave %q, %v", key, q, k2, err)
		}
	})
}

// FuzzMiddleware sends arbitrary keys and bodies through the middleware:
// never a panic, only the handler's 201 or a 400/413.
func FuzzMiddleware(f *testing.F) {
	for _, tt := range keyTests {
		f.Add(strings.Join(tt.values, "\n"), "body")
	}
	m, err := idempotency.New(idempotency.Config{MaxBodyBytes: 64})
	if err != nil {
		f.Fatal(err)
	}
	h := m.Handler(&payment{})
	f.Fuzz(func(t *testing.T, key, body string) {
		r := post("", body)
		r.Header["Idempotency-Key"] = strings.Split(key, "\n")
		w := do(h, r)
		switch w.Code {
		case 201, 400, 413:
		case 422: // the same key with another body earlier in the run
		default:
			t.Fatalf("status %d for %q", w.Code, key)
		}
	})
}
