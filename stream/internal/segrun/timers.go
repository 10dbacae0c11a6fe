package segrun

import (
	"container/heap"

	"github.com/google/uuid"
)

// timer asks for a subscriber's re-evaluation at due (Unix ms). Entries are
// never removed early: a popped entry whose due differs from the
// subscriber's current due is stale and ignored.
type timer struct {
	due  int64
	site string
	sub  string
}

type timerHeap []timer

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].due < h[j].due }
func (h timerHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)        { *h = append(*h, x.(timer)) }
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	*h = old[:len(old)-1]
	return t
}

func (h *timerHeap) add(t timer) { heap.Push(h, t) }

// popDue removes and returns the earliest timer due at or before limit.
func (h *timerHeap) popDue(limit int64) (timer, bool) {
	if len(*h) == 0 || (*h)[0].due > limit {
		return timer{}, false
	}
	return heap.Pop(h).(timer), true
}

// dedup remembers the ids of a partition's most recent events, so a beacon
// the browser retried (same event id, twice in Kafka) counts once, as it
// does in ClickHouse after the sink's own deduplication.
type dedup struct {
	seen map[[16]byte]struct{}
	ring [][16]byte
	next int
}

func newDedup(size int) *dedup {
	return &dedup{seen: make(map[[16]byte]struct{}, size), ring: make([][16]byte, 0, size)}
}

// repeat records id and reports whether it was seen within the window.
func (d *dedup) repeat(id string) bool {
	u, err := uuid.Parse(id)
	if err != nil {
		return false
	}
	k := [16]byte(u)
	if _, ok := d.seen[k]; ok {
		return true
	}
	if len(d.ring) < cap(d.ring) {
		d.ring = append(d.ring, k)
	} else {
		delete(d.seen, d.ring[d.next])
		d.ring[d.next] = k
		d.next = (d.next + 1) % len(d.ring)
	}
	d.seen[k] = struct{}{}
	return false
}
