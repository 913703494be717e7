package cache

import "hash"

// GeneratedETag returns the ETag the middleware generates for body b.
func GeneratedETag(b string) string {
	var d xxh64
	d.reset()
	d.write([]byte(b))
	var t [tagLen]byte
	formatTag(t[:], d.sum(), len(b))
	return string(t[:])
}

// NewXXH64 returns the middleware's body hash as a hash.Hash64.
func NewXXH64() hash.Hash64 {
	h := new(xxh64Hash)
	h.Reset()
	return h
}

type xxh64Hash struct{ d xxh64 }

func (h *xxh64Hash) Write(p []byte) (int, error) { h.d.write(p); return len(p), nil }
func (h *xxh64Hash) Sum64() uint64               { return h.d.sum() }
func (h *xxh64Hash) Reset()                      { h.d.reset() }
func (h *xxh64Hash) Size() int                   { return 8 }
func (h *xxh64Hash) BlockSize() int              { return 32 }
func (h *xxh64Hash) Sum(b []byte) []byte {
	s := h.d.sum()
	return append(b, byte(s>>56), byte(s>>48), byte(s>>40), byte(s>>32), byte(s>>24), byte(s>>16), byte(s>>8), byte(s))
}
