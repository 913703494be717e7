package ratelimit_test

import (
	"errors"
	"strconv"
	"strings"
)

// A strict RFC 9651 List parser and serializer, for tests: a field is valid
// only if it parses (§4.2) and serializes (§4.1) back to the same bytes, so
// a value the middleware writes is exactly what a conforming library would.

type sfParam struct {
	key string
	val any
}

type sfItem struct {
	val    any // int64, string (sf-string), sfToken, []byte, bool, []sfItem (inner list)
	params []sfParam
}

type sfToken string

var errSF = errors.New("invalid structured field")

type sfParser struct{ s string }

func (p *sfParser) peek() byte {
	if p.s == "" {
		return 0
	}
	return p.s[0]
}

func parseSFList(field string) ([]sfItem, error) {
	p := &sfParser{s: strings.TrimLeft(field, " ")}
	p.s = strings.TrimRight(p.s, " ")
	var list []sfItem
	for p.s != "" {
		it, err := p.itemOrInner()
		if err != nil {
			return nil, err
		}
		list = append(list, it)
		p.s = strings.TrimLeft(p.s, " \t")
		if p.s == "" {
			return list, nil
		}
		if p.s[0] != ',' {
			return nil, errSF
		}
		p.s = strings.TrimLeft(p.s[1:], " \t")
		if p.s == "" {
			return nil, errSF // trailing comma
		}
	}
	return list, nil
}

func (p *sfParser) itemOrInner() (sfItem, error) {
	if p.peek() == '(' {
		p.s = p.s[1:]
		var inner []sfItem
		for {
			p.s = strings.TrimLeft(p.s, " ")
			if p.peek() == ')' {
				p.s = p.s[1:]
				params, err := p.params()
				return sfItem{val: inner, params: params}, err
			}
			v, err := p.bare()
			if err != nil {
				return sfItem{}, err
			}
			params, err := p.params()
			if err != nil {
				return sfItem{}, err
			}
			inner = append(inner, sfItem{val: v, params: params})
			if c := p.peek(); c != ' ' && c != ')' {
				return sfItem{}, errSF
			}
		}
	}
	v, err := p.bare()
	if err != nil {
		return sfItem{}, err
	}
	params, err := p.params()
	return sfItem{val: v, params: params}, err
}

func (p *sfParser) params() ([]sfParam, error) {
	var ps []sfParam
	for p.peek() == ';' {
		p.s = strings.TrimLeft(p.s[1:], " ")
		c := p.peek()
		if !(c >= 'a' && c <= 'z' || c == '*') {
			return nil, errSF
		}
		i := 1
		for i < len(p.s) && (p.s[i] >= 'a' && p.s[i] <= 'z' || p.s[i] >= '0' && p.s[i] <= '9' || strings.IndexByte("_-.*", p.s[i]) >= 0) {
			i++
		}
		key := p.s[:i]
		p.s = p.s[i:]
		var v any = true
		if p.peek() == '=' {
			p.s = p.s[1:]
			var err error
			if v, err = p.bare(); err != nil {
				return nil, err
			}
		}
		for _, q := range ps {
			if q.key == key {
				return nil, errSF // a serializer never repeats a key
			}
		}
		ps = append(ps, sfParam{key, v})
	}
	return ps, nil
}

func (p *sfParser) bare() (any, error) {
	c := p.peek()
	switch {
	case c == '-' || c >= '0' && c <= '9':
		i := 0
		if c == '-' {
			i = 1
		}
		j := i
		for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
			j++
		}
		if j == i || j-i > 15 || j < len(p.s) && p.s[j] == '.' {
			return nil, errSF // no digits, too long, or a Decimal (none expected here)
		}
		n, err := strconv.ParseInt(p.s[:j], 10, 64)
		p.s = p.s[j:]
		return n, err
	case c == '"':
		var b strings.Builder
		for i := 1; i < len(p.s); i++ {
			switch ch := p.s[i]; {
			case ch == '\\':
				if i+1 >= len(p.s) || p.s[i+1] != '"' && p.s[i+1] != '\\' {
					return nil, errSF
				}
				i++
				b.WriteByte(p.s[i])
			case ch == '"':
				p.s = p.s[i+1:]
				return b.String(), nil
			case ch < 0x20 || ch > 0x7e:
				return nil, errSF
			default:
				b.WriteByte(ch)
			}
		}
		return nil, errSF
	case c == '*' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		i := 1
		for i < len(p.s) && (strings.IndexByte("!#$%&'*+-.^_`|~:/", p.s[i]) >= 0 ||
			p.s[i] >= '0' && p.s[i] <= '9' || p.s[i] >= 'a' && p.s[i] <= 'z' || p.s[i] >= 'A' && p.s[i] <= 'Z') {
			i++
		}
		t := p.s[:i]
		p.s = p.s[i:]
		return sfToken(t), nil
	case c == '?':
		if len(p.s) < 2 || p.s[1] != '0' && p.s[1] != '1' {
			return nil, errSF
		}
		v := p.s[1] == '1'
		p.s = p.s[2:]
		return v, nil
	}
	return nil, errSF // byte sequences, dates, display strings: never expected here
}

func serializeSF(list []sfItem) string {
	var b strings.Builder
	for i, it := range list {
		if i > 0 {
			b.WriteString(", ")
		}
		serializeItem(&b, it)
	}
	return b.String()
}

func serializeItem(b *strings.Builder, it sfItem) {
	if inner, ok := it.val.([]sfItem); ok {
		b.WriteByte('(')
		for i, x := range inner {
			if i > 0 {
				b.WriteByte(' ')
			}
			serializeItem(b, x)
		}
		b.WriteByte(')')
	} else {
		serializeBare(b, it.val)
	}
	for _, p := range it.params {
		b.WriteByte(';')
		b.WriteString(p.key)
		if v, ok := p.val.(bool); ok && v {
			continue
		}
		b.WriteByte('=')
		serializeBare(b, p.val)
	}
}

func serializeBare(b *strings.Builder, v any) {
	switch v := v.(type) {
	case int64:
		b.WriteString(strconv.FormatInt(v, 10))
	case string:
		b.WriteByte('"')
		for i := 0; i < len(v); i++ {
			if v[i] == '"' || v[i] == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(v[i])
		}
		b.WriteByte('"')
	case sfToken:
		b.WriteString(string(v))
	case bool:
		if v {
			b.WriteString("?1")
		} else {
			b.WriteString("?0")
		}
	}
}

// strictSF reports why field is not a canonical RFC 9651 List ("" if it is).
func strictSF(field string) string {
	list, err := parseSFList(field)
	if err != nil {
		return err.Error()
	}
	if len(list) == 0 {
		return "empty list"
	}
	if s := serializeSF(list); s != field {
		return "does not round-trip: serializes as " + strconv.Quote(s)
	}
	return ""
}

// sfParams returns the parameters of the list member named name.
func sfParams(field, name string) map[string]any {
	list, err := parseSFList(field)
	if err != nil {
		return nil
	}
	for _, it := range list {
		if it.val == name {
			m := map[string]any{}
			for _, p := range it.params {
				m[p.key] = p.val
			}
			return m
		}
	}
	return nil
}
