package redisstore_test

import (
	"bytes"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/jiec/httpmw/idempotency"
	"github.com/jiec/httpmw/redisstore"
)

var recordTable = []idempotency.Record{
	testRecord,
	{},
	{Status: 204, Header: http.Header{}, Created: time.Unix(0, 1)},
	{Status: 500, Fingerprint: string(bytes.Repeat([]byte{0}, 300)), Header: http.Header{"Empty": {}, "E2": {""}}, Body: bytes.Repeat([]byte("x"), 1<<16)},
	{Status: 200, Created: time.Date(-1, 1, 1, 0, 0, 0, 999999999, time.UTC)},
}

func TestRecordRoundTrip(t *testing.T) {
	for i, rec := range recordTable {
		enc := redisstore.AppendRecord(nil, &rec)
		got, err := redisstore.DecodeRecord(string(enc))
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if got.Status != rec.Status || got.Fingerprint != rec.Fingerprint || !bytes.Equal(got.Body, rec.Body) || !got.Created.Equal(rec.Created) {
			t.Fatalf("record %d: %+v", i, got)
		}
		if len(got.Header) != len(rec.Header) || (len(rec.Header) > 0 && !reflect.DeepEqual(normal(got.Header), normal(rec.Header))) {
			t.Fatalf("record %d header %v, want %v", i, got.Header, rec.Header)
		}
		if again := redisstore.AppendRecord(nil, got); !bytes.Equal(again, enc) {
			t.Fatalf("record %d: encoding not deterministic", i)
		}
	}
}

// normal maps nil value lists to empty ones (both encode the same).
func normal(h http.Header) http.Header {
	out := http.Header{}
	for k, v := range h {
		out[k] = append([]string{}, v...)
	}
	return out
}

func TestDecodeRecordRejectsMalformed(t *testing.T) {
	good := string(redisstore.AppendRecord(nil, &testRecord))
	for name, in := range map[string]string{
		"empty":          "",
		"version":        "\x02" + good[1:],
		"truncated":      good[:len(good)-1],
		"trailing bytes": good + "x",
		"huge count":     "\x01\xc8\x01\x00\x00\x00\xff\xff\xff\xff\x0f",
		"status > 999":   "\x01\xe8\x07\x00\x00\x00\x00\x00",
		"nanos >= 1e9":   "\x01\x00\x00\x80\xa8\xd6\xb9\x07\x00\x00\x00",
		"long varint":    "\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",
	} {
		if _, err := redisstore.DecodeRecord(in); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

// FuzzDecodeRecord: decoding never panics, and whatever decodes encodes
// back to the same bytes.
func FuzzDecodeRecord(f *testing.F) {
	for _, rec := range recordTable {
		f.Add(string(redisstore.AppendRecord(nil, &rec)))
	}
	f.Add("\x01\xc8\x01\x00\x00\x00\xff\xff\xff\xff\x0f")
	f.Fuzz(func(t *testing.T, in string) {
		rec, err := redisstore.DecodeRecord(in)
		if err != nil {
			return
		}
		if len(rec.Body) > len(in) || len(rec.Header) > len(in) {
			t.Fatal("decoded more than the input holds")
		}
		// Duplicate names or unsorted fields decode but re-encode canonically,
		// so compare decoded values rather than bytes.
		again, err := redisstore.DecodeRecord(string(redisstore.AppendRecord(nil, rec)))
		if err != nil || again.Status != rec.Status || again.Fingerprint != rec.Fingerprint || !bytes.Equal(again.Body, rec.Body) || !again.Created.Equal(rec.Created) || !reflect.DeepEqual(normal(again.Header), normal(rec.Header)) {
			t.Fatalf("round trip: %v %+v vs %+v", err, again, rec)
		}
	})
}
