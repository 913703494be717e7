package redisstore

import (
	"encoding/binary"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/jiec/httpmw/idempotency"
)

// Record encoding (version 1), all lengths and counts uvarints:
//
//	1 | status | created seconds (varint) | created nanoseconds |
//	len fingerprint | fingerprint | field count |
//	  (len name | name | value count | (len value | value)...)... |
//	len body | body
//
// Header fields are written in sorted order, so one record always encodes
// to the same bytes.
const recordVersion = 1

func appendRecord(b []byte, rec *idempotency.Record) []byte {
	b = append(b, recordVersion)
	b = binary.AppendUvarint(b, uint64(max(rec.Status, 0)))
	b = binary.AppendVarint(b, rec.Created.Unix())
	b = binary.AppendUvarint(b, uint64(rec.Created.Nanosecond()))
	b = appendString(b, rec.Fingerprint)
	names := make([]string, 0, len(rec.Header))
	for name := range rec.Header {
		names = append(names, name)
	}
	slices.Sort(names)
	b = binary.AppendUvarint(b, uint64(len(names)))
	for _, name := range names {
		b = appendString(b, name)
		vs := rec.Header[name]
		b = binary.AppendUvarint(b, uint64(len(vs)))
		for _, v := range vs {
			b = appendString(b, v)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(rec.Body)))
	return append(b, rec.Body...)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

var errRecord = errors.New("redisstore: malformed record")

// decodeRecord parses what appendRecord wrote. It never panics, and it
// allocates in proportion to len(data) whatever the counts claim.
func decodeRecord(data string) (*idempotency.Record, error) {
	d := decoder{s: data}
	if d.byte() != recordVersion {
		return nil, errRecord
	}
	rec := &idempotency.Record{}
	status := d.uvarint()
	sec := d.varint()
	nsec := d.uvarint()
	if status > 999 || nsec >= 1e9 {
		return nil, errRecord
	}
	rec.Status = int(status)
	rec.Created = time.Unix(sec, int64(nsec))
	rec.Fingerprint = d.string()
	nf := d.count()
	rec.Header = make(http.Header, nf)
	for range nf {
		name := d.string()
		nv := d.count()
		vs := make([]string, 0, nv)
		for range nv {
			vs = append(vs, d.string())
		}
		if d.err {
			return nil, errRecord
		}
		rec.Header[name] = vs
	}
	body := d.string()
	if d.err || d.s != "" {
		return nil, errRecord
	}
	rec.Body = []byte(body)
	return rec, nil
}

type decoder struct {
	s   string
	err bool
}

func (d *decoder) byte() byte {
	if d.s == "" {
		d.err = true
		return 0
	}
	c := d.s[0]
	d.s = d.s[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	var v uint64
	for shift := 0; shift < 64; shift += 7 {
		if d.s == "" {
			d.err = true
			return 0
		}
		c := d.s[0]
		d.s = d.s[1:]
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v
		}
	}
	d.err = true
	return 0
}

func (d *decoder) varint() int64 {
	u := d.uvarint()
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x
}

// count reads a count of items that take at least one byte each.
func (d *decoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.s)) {
		d.err = true
		return 0
	}
	return int(n)
}

func (d *decoder) string() string {
	n := d.uvarint()
	if n > uint64(len(d.s)) {
		d.err = true
		return ""
	}
	s := d.s[:n]
	d.s = d.s[n:]
	return s
}
