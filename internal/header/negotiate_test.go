package header_test

import (
	"testing"

	"github.com/jiec/httpmw/internal/header"
)

func TestNextMediaRangeMatchesElementParsing(t *testing.T) {
	for _, s := range []string{
		"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8",
		"text/html , , text/*;q=0.5 ,", `text/plain; format="a,b"; q=0.4, */*`, "*/html, text/html",
		"text/html;level=1;q=0;ext=2, TEXT/HTML", "garbage, text/html x, text/html", ",,,", "", " ",
		"text/html;q=2, a/b;q=", `a/b;c="open`, "a/b ;c=d , e/f",
	} {
		var got, want []header.MediaRange
		var gotOK, wantOK []bool
		for e := range header.Elements([]string{s}) {
			mr, ok := header.ParseMediaRange(e)
			want, wantOK = append(want, mr), append(wantOK, ok)
		}
		for rest := s; rest != ""; {
			var mr header.MediaRange
			var ok bool
			mr, rest, ok = header.NextMediaRange(rest)
			if mr == (header.MediaRange{}) && !ok && rest == "" && len(got) == len(want) {
				break // only separators were left
			}
			got, gotOK = append(got, mr), append(gotOK, ok)
		}
		if len(got) != len(want) {
			t.Fatalf("NextMediaRange(%q): %d elements %+v, want %d %+v", s, len(got), got, len(want), want)
		}
		for i := range got {
			if got[i] != want[i] || gotOK[i] != wantOK[i] {
				t.Errorf("NextMediaRange(%q) element %d = %+v, %v; want %+v, %v", s, i, got[i], gotOK[i], want[i], wantOK[i])
			}
		}
	}
}

func TestNextWeightedMatchesElementParsing(t *testing.T) {
	for _, s := range []string{
		"en-US,en;q=0.9,de;q=0.8", "gzip, deflate, br, zstd", " , fr ;q=0.5 ,, *", "en;q=2, fr;q=abc, de",
		`x;a="b,c", y`, "", ",,", "en x, fr",
	} {
		type w struct {
			v  string
			q  int
			ok bool
		}
		var got, want []w
		for e := range header.Elements([]string{s}) {
			v, q, ok := header.ParseWeighted(e)
			want = append(want, w{v, q, ok})
		}
		for rest := s; rest != ""; {
			var x w
			x.v, x.q, rest, x.ok = header.NextWeighted(rest)
			if x == (w{}) && rest == "" && len(got) == len(want) {
				break
			}
			got = append(got, x)
		}
		if len(got) != len(want) {
			t.Fatalf("NextWeighted(%q) = %+v, want %+v", s, got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("NextWeighted(%q) element %d = %+v, want %+v", s, i, got[i], want[i])
			}
		}
	}
}

func TestParamValueEqualFold(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{"utf-8", "UTF-8", true},
		{`"utf-8"`, "utf-8", true},
		{`"UTF-8"`, `"utf-8"`, true},
		{`"a\"b"`, `"a\"B"`, true},
		{`"a\b"`, "ab", true},
		{`"ab"`, "abc", false},
		{"a", "b", false},
		{`""`, "", true},
		{`"`, `"`, true},
		{"x", `"x`, false},
	} {
		if got := header.ParamValueEqualFold(tt.a, tt.b); got != tt.want {
			t.Errorf("ParamValueEqualFold(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
		if got := header.ParamValueEqualFold(tt.b, tt.a); got != tt.want {
			t.Errorf("ParamValueEqualFold(%q, %q) = %v, want %v", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestParamsContain(t *testing.T) {
	for _, tt := range []struct {
		have, want string
		n          int
		ok         bool
	}{
		{"level=1", "level=1", 1, true},
		{"charset=utf-8; level=1", `LEVEL="1"`, 1, true},
		{"charset=utf-8; level=1", "level=1;charset=UTF-8", 2, true},
		{"level=1", "level=2", 0, false},
		{"", "level=1", 0, false},
		{"level=1", "", 0, true},
		{"level=1", "level", 0, false},
		{"level=1", "level=1;level=1", 0, false}, // more than have holds
		{"a=1;b=2", "b=2;a=1", 2, true},
	} {
		limit, _ := header.CountParams(tt.have)
		n, ok := header.ParamsContain(tt.have, tt.want, limit)
		if n != tt.n || ok != tt.ok {
			t.Errorf("ParamsContain(%q, %q) = %d, %v; want %d, %v", tt.have, tt.want, n, ok, tt.n, tt.ok)
		}
	}
}

func TestLanguageRanges(t *testing.T) {
	for _, tt := range []struct {
		s        string
		tag, rng bool
	}{
		{"en", true, true}, {"en-GB", true, true}, {"zh-Hant-TW", true, true}, {"de-CH-1996", true, true},
		{"x-klingon", true, true}, {"*", false, true}, {"", false, false}, {"en-", false, false},
		{"-en", false, false}, {"en--GB", false, false}, {"en_GB", false, false}, {"123", false, false},
		{"abcdefghi", false, false}, {"en-abcdefgh", true, true}, {"en-abcdefghi", false, false}, {"*-GB", false, false},
	} {
		if got := header.IsLanguageTag(tt.s); got != tt.tag {
			t.Errorf("IsLanguageTag(%q) = %v, want %v", tt.s, got, tt.tag)
		}
		if got := header.IsLanguageRange(tt.s); got != tt.rng {
			t.Errorf("IsLanguageRange(%q) = %v, want %v", tt.s, got, tt.rng)
		}
	}
	for _, tt := range []struct {
		tag, prefix string
		want        bool
	}{
		{"en-GB", "en", true}, {"en-GB", "EN", true}, {"en", "en", true}, {"eng", "en", false},
		{"en", "en-GB", false}, {"zh-Hant-TW", "zh-Hant", true}, {"zh-Hant-TW", "zh-Han", false},
	} {
		if got := header.HasLanguagePrefix(tt.tag, tt.prefix); got != tt.want {
			t.Errorf("HasLanguagePrefix(%q, %q) = %v, want %v", tt.tag, tt.prefix, got, tt.want)
		}
	}
}
