package header_test

import (
	"testing"

	"github.com/jiec/httpmw/internal/header"
)

var parseMediaRangeTests = []struct {
	in   string
	want header.MediaRange
	ok   bool
}{
	{"text/html", header.MediaRange{Type: "text", Subtype: "html", Q: 1000}, true},
	{"*/*", header.MediaRange{Type: "*", Subtype: "*", Q: 1000}, true},
	{"image/*;q=0.8", header.MediaRange{Type: "image", Subtype: "*", Q: 800}, true},
	{"TEXT/HTML;Q=0.5", header.MediaRange{Type: "TEXT", Subtype: "HTML", Q: 500}, true},
	{"text/html;level=1", header.MediaRange{Type: "text", Subtype: "html", Params: "level=1", Q: 1000}, true},
	{"text/html; charset=utf-8 ;q=0.8", header.MediaRange{Type: "text", Subtype: "html", Params: "charset=utf-8", Q: 800}, true},
	{"application/signed-exchange;v=b3;q=0.7", header.MediaRange{Type: "application", Subtype: "signed-exchange", Params: "v=b3", Q: 700}, true},
	{`text/plain; format="a;q=0.1"; q=0.4`, header.MediaRange{Type: "text", Subtype: "plain", Params: `format="a;q=0.1"`, Q: 400}, true},
	// Parameters after q are accept-ext (RFC 9110 §12.5.1) and are ignored,
	// including ones without a value.
	{"text/html;q=0.5;ext=1;flag", header.MediaRange{Type: "text", Subtype: "html", Q: 500}, true},
	{"text/html;a=1;q=0;b=\"x\"", header.MediaRange{Type: "text", Subtype: "html", Params: "a=1", Q: 0}, true},
	// Empty parameters (RFC 9110 §5.6.6).
	{"text/html;", header.MediaRange{Type: "text", Subtype: "html", Q: 1000}, true},
	{"text/html;;charset=utf-8;", header.MediaRange{Type: "text", Subtype: "html", Params: "charset=utf-8", Q: 1000}, true},
	{"text/html;charset=utf-8;; ;q=0.5", header.MediaRange{Type: "text", Subtype: "html", Params: "charset=utf-8", Q: 500}, true},
	// Malformed ranges.
	{"*/html", header.MediaRange{}, false},
	{"text", header.MediaRange{}, false},
	{"text/", header.MediaRange{}, false},
	{"/html", header.MediaRange{}, false},
	{"text/html/x", header.MediaRange{}, false},
	{"text /html", header.MediaRange{}, false},
	{"text/ html", header.MediaRange{}, false},
	{"text/html;q=2", header.MediaRange{}, false},
	{"text/html;q=0.1234", header.MediaRange{}, false},
	{"text/html;q=", header.MediaRange{}, false},
	{"text/html;level;q=0.5", header.MediaRange{}, false},
	{`text/html;a="open`, header.MediaRange{}, false},
	{"", header.MediaRange{}, false},
}

func TestParseMediaRange(t *testing.T) {
	for _, tt := range parseMediaRangeTests {
		got, ok := header.ParseMediaRange(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseMediaRange(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
