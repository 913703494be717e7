package cache

import (
	"math/bits"

	"github.com/jiec/httpmw/internal/writer"
)

// The body held to generate an ETag is kept in chunks of 1 KiB to 64 KiB
// taken from bounded free lists, never in one growing slice: growing a
// slice by appending allocates about four times the body and cannot be
// reused once large. Each new chunk is the largest size class not above a
// quarter of what is already held (at least 1 KiB, at most 64 KiB), so
// what is allocated stays within 1.25× the body from 4 KiB on, and within
// one 64 KiB chunk of MaxBodySize for bodies over it (which are passed on
// and released as soon as the limit is passed).
const (
	minChunkShift   = 10  // 1 KiB
	numChunkClasses = 7   // 1, 2, 4 ... 64 KiB
	chunksPerClass  = 32  // free chunks kept per class: at most 32 × 127 KiB ≈ 4 MiB idle
	maxChunkSlots   = 256 // chunk slots a pooled writer keeps (40 hold 1 MiB)
)

// freeChunks are the free lists, one per size class. A channel bounds what
// is kept idle, unlike a sync.Pool.
var freeChunks = func() (f [numChunkClasses]chan []byte) {
	for i := range f {
		f[i] = make(chan []byte, chunksPerClass)
	}
	return f
}()

func getChunk(class int) []byte {
	select {
	case c := <-freeChunks[class]:
		return c[:0]
	default:
		return make([]byte, 0, 1<<(minChunkShift+class))
	}
}

func putChunk(c []byte) {
	class := bits.Len(uint(cap(c))) - 1 - minChunkShift
	if class < 0 || class >= numChunkClasses || cap(c) != 1<<(minChunkShift+class) {
		return
	}
	select {
	case freeChunks[class] <- c:
	default:
	}
}

// chunkClass is the size class of the chunk that follows n held bytes.
func chunkClass(n int) int {
	q := n / 4 >> minChunkShift
	if q == 0 {
		return 0
	}
	return min(bits.Len(uint(q))-1, numChunkClasses-1)
}

// heldBody is a buffered body: n bytes in chunks.
type heldBody struct {
	chunks [][]byte
	n      int
}

// write appends p.
func (b *heldBody) write(p []byte) {
	for len(p) > 0 {
		k := len(b.chunks)
		if k == 0 || len(b.chunks[k-1]) == cap(b.chunks[k-1]) {
			b.chunks = append(b.chunks, getChunk(chunkClass(b.n)))
			k++
		}
		c := b.chunks[k-1]
		m := copy(c[len(c):cap(c)], p)
		b.chunks[k-1] = c[:len(c)+m]
		b.n += m
		p = p[m:]
	}
}

// writeTo forwards the held bytes with w.WriteDown and releases the chunks.
func (b *heldBody) writeTo(w *writer.Writer) error {
	var err error
	for _, c := range b.chunks {
		if err == nil && len(c) > 0 {
			_, err = w.WriteDown(c)
		}
	}
	b.drop()
	return err
}

// drop releases the chunks.
func (b *heldBody) drop() {
	for i, c := range b.chunks {
		putChunk(c)
		b.chunks[i] = nil
	}
	b.chunks, b.n = b.chunks[:0], 0
}

// reuse returns b emptied for a pooled writer (its chunk slots, if few).
func (b *heldBody) reuse() heldBody {
	if cap(b.chunks) > maxChunkSlots {
		return heldBody{}
	}
	return heldBody{chunks: b.chunks[:0]}
}
