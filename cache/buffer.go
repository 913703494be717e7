package cache

import (
	"math/bits"
	"sync"
	"unsafe"

	"github.com/jiec/httpmw/internal/writer"
)

// The body held to generate an ETag is kept in chunks of 1 KiB to 64 KiB
// taken from per-class pools, never in one growing slice: growing a
// slice by appending allocates about four times the body and cannot be
// reused once large. Each new chunk is the largest size class not above a
// quarter of what is already held (at least 1 KiB, at most 64 KiB), so
// what is allocated stays within 1.25× the body from 4 KiB on, and within
// one 64 KiB chunk of MaxBodySize for bodies over it (which are passed on
// and released as soon as the limit is passed).
const (
	minChunkShift   = 10  // 1 KiB
	numChunkClasses = 7   // 1, 2, 4 ... 64 KiB
	maxChunkSlots   = 256 // chunk slots a pooled writer keeps (40 hold 1 MiB)
)

// chunkPools hold the free chunks, one pool per size class, each chunk as a
// pointer to its first byte (an interface holds a pointer without
// allocating; a slice would be boxed on every Put). A sync.Pool keeps what
// the load in flight needs (many concurrent HTTP/2 streams each holding a
// body: a fixed small free list made them allocate and clear a fresh chunk
// per response) and gives idle chunks back to the GC within two cycles.
var chunkPools [numChunkClasses]sync.Pool

// getChunk and putChunk are not inlined: they would take room in the frames
// of writeTo and drop, on the stack while the body goes down.
//
//go:noinline
func getChunk(class int) []byte {
	size := 1 << (minChunkShift + class)
	if p, ok := chunkPools[class].Get().(*byte); ok {
		return unsafe.Slice(p, size)[:0]
	}
	return make([]byte, 0, size)
}

//go:noinline
func putChunk(c []byte) {
	class := bits.Len(uint(cap(c))) - 1 - minChunkShift
	if class < 0 || class >= numChunkClasses || cap(c) != 1<<(minChunkShift+class) {
		return
	}
	chunkPools[class].Put(&c[:1][0])
}

// fitClass is the largest size class that p bytes about to be written fill
// completely (-1 below 1 KiB): a large Write gets a chunk of its size, not
// a run of small ones, and wastes nothing.
func fitClass(p int) int {
	q := p >> minChunkShift
	if q == 0 {
		return -1
	}
	return min(bits.Len(uint(q))-1, numChunkClasses-1)
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

	// writeTo's cursor: the next chunk, the offset in it, and the chunk
	// that gathers small ones (nil when they go down as they are).
	next, off int
	stage     []byte
}

// write appends p.
func (b *heldBody) write(p []byte) {
	for len(p) > 0 {
		k := len(b.chunks)
		if k == 0 || len(b.chunks[k-1]) == cap(b.chunks[k-1]) {
			b.chunks = append(b.chunks, getChunk(max(chunkClass(b.n), fitClass(len(p)))))
			k++
		}
		c := b.chunks[k-1]
		m := copy(c[len(c):cap(c)], p)
		b.chunks[k-1] = c[:len(c)+m]
		b.n += m
		p = p[m:]
	}
}

// coalesceOver is the body size from which writeTo gathers the chunks into
// 64 KiB writes: net/http's 4 KiB connection buffer absorbs smaller writes,
// but each write of a chunk that does not fit in it is a system call of its
// own (a 32 KiB body held in 16 chunks took 8 writes to the socket, one Write
// of the handler's takes 2).
const coalesceOver = 4 << 10

// writeTo forwards the held bytes with w.WriteDown and releases the chunks.
// A body over coalesceOver held in several chunks goes down in writes of up
// to 64 KiB, gathered in a chunk of the largest class (from its pool,
// returned to it after), and 64 KiB chunks as they are.
//
// It is on the stack under the writes of the layers below: its frame holds
// only the loop, the gathering is in piece.
func (b *heldBody) writeTo(w *writer.Writer) error {
	b.next, b.off = 0, 0
	if len(b.chunks) >= 2 && b.n > coalesceOver {
		b.stage = getChunk(numChunkClasses - 1)
	}
	var err error
	for p := b.piece(); p != nil && err == nil; p = b.piece() {
		_, err = w.WriteDown(p)
	}
	if b.stage != nil {
		putChunk(b.stage)
		b.stage = nil
	}
	b.drop()
	return err
}

// piece returns the next bytes writeTo sends down, nil at the end: the next
// non-empty chunk, or with a stage, a full 64 KiB chunk as it is or the
// stage filled from the chunks that follow.
//
//go:noinline
func (b *heldBody) piece() []byte {
	if b.stage == nil {
		for b.next < len(b.chunks) {
			c := b.chunks[b.next]
			b.next++
			if len(c) > 0 {
				return c
			}
		}
		return nil
	}
	stage := b.stage[:0]
	for b.next < len(b.chunks) {
		c := b.chunks[b.next][b.off:]
		if len(stage) == 0 && len(c) == cap(stage) {
			b.next++ // a full 64 KiB chunk: no copy
			return c
		}
		m := copy(stage[len(stage):cap(stage)], c)
		stage = stage[:len(stage)+m]
		if m == len(c) {
			b.next, b.off = b.next+1, 0
		} else {
			b.off += m
		}
		if len(stage) == cap(stage) {
			b.stage = stage
			return stage
		}
	}
	b.stage = stage
	if len(stage) == 0 {
		return nil
	}
	return stage
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
