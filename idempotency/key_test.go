package idempotency_test

import (
	"strings"
	"testing"

	"github.com/jiec/httpmw/idempotency"
)

var keyTests = []struct {
	name   string
	values []string
	key    string // "" = rejected
}{
	{"sf-string", []string{`"8e03978e-40d5-43e8-bc93-6894a57f9324"`}, "8e03978e-40d5-43e8-bc93-6894a57f9324"},
	{"bare token (Stripe)", []string{`8e03978e-40d5-43e8-bc93-6894a57f9324`}, "8e03978e-40d5-43e8-bc93-6894a57f9324"},
	{"OWS trimmed", []string{" \t\"k1\" "}, "k1"},
	{"sf-string with space", []string{`"a b"`}, "a b"},
	{"sf-string escapes", []string{`"a\"b\\c"`}, `a"b\c`},
	{"sf-string with comma", []string{`"a,b"`}, "a,b"},
	{"parameters ignored", []string{`"k";v=1;x;y="s";z=tok`}, "k"},
	{"255 characters", []string{strings.Repeat("k", 255)}, strings.Repeat("k", 255)},
	{"255 quoted", []string{`"` + strings.Repeat("k", 255) + `"`}, strings.Repeat("k", 255)},
	{"empty", []string{""}, ""},
	{"empty sf-string", []string{`""`}, ""},
	{"256 characters", []string{strings.Repeat("k", 256)}, ""},
	{"256 quoted", []string{`"` + strings.Repeat("k", 256) + `"`}, ""},
	{"255 escaped characters", []string{`"` + strings.Repeat(`\\`, 255) + `"`}, strings.Repeat(`\`, 255)},
	{"256 escaped characters", []string{`"` + strings.Repeat(`\"`, 256) + `"`}, ""},
	{"255 escaped characters with parameters", []string{`"` + strings.Repeat(`\"`, 255) + `";a=1;b="x"`}, strings.Repeat(`"`, 255)},
	{"escaped ordinary character", []string{`"a\b"`}, ""},
	{"DEL in sf-string", []string{"\"a\x7fb\""}, ""},
	{"tab in sf-string", []string{"\"a\tb\""}, ""},
	{"bare key with OWS around it", []string{"\t k1 \t"}, "k1"},
	{"parameter with non-ASCII string", []string{"\"k\";a=\"caf\xc3\xa9\""}, ""},
	{"bare key with colon and slash", []string{"ord:2026/12/01#1"}, "ord:2026/12/01#1"},
	{"huge", []string{strings.Repeat("k", 1<<20)}, ""},
	{"two field lines", []string{"a", "b"}, ""},
	{"list", []string{`"a", "b"`}, ""},
	{"bare list", []string{`a,b`}, ""},
	{"unterminated", []string{`"abc`}, ""},
	{"bad escape", []string{`"a\nb"`}, ""},
	{"control character", []string{"\"a\x01b\""}, ""},
	{"non-ASCII", []string{"\"caf\xc3\xa9\""}, ""},
	{"bare non-ASCII", []string{"caf\xc3\xa9"}, ""},
	{"bare space", []string{"a b"}, ""},
	{"bare quote", []string{`a"b`}, ""},
	{"trailing garbage", []string{`"a"b`}, ""},
	{"bad parameter key", []string{`"a";Upper=1`}, ""},
	{"empty parameter value", []string{`"a";k=`}, ""},
	{"bare with parameter", []string{`a;k=1`}, ""},
}

func TestParseKey(t *testing.T) {
	for _, tt := range keyTests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := idempotency.ParseKey(tt.values)
			if tt.key == "" {
				if err == nil {
					t.Fatalf("accepted %q as %q", tt.values, key)
				}
				return
			}
			if err != nil || key != tt.key {
				t.Fatalf("got %q, %v; want %q", key, err, tt.key)
			}
		})
	}
}
