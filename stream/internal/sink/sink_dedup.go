package sink

import "github.com/google/uuid"

// DefaultDedupWindow is how many recent rows per partition the sink
// remembers the event ids of.
const DefaultDedupWindow = 100_000

// idWindow remembers the event ids of the last n rows stored or buffered for
// one partition. The browser makes event ids, so a beacon retried after an
// ambiguous failure (ingest produced it, the answer was lost) carries the
// same ids; its key (site:subscriber) puts it on the same partition, a few
// seconds later. Such a repeat is dropped instead of stored twice.
type idWindow struct {
	n    int
	ids  map[uuid.UUID]struct{}
	ring []uuid.UUID // insertion order, for eviction
	head int         // oldest entry once the ring is full
}

func newIDWindow(n int) *idWindow {
	return &idWindow{n: n, ids: make(map[uuid.UUID]struct{}, min(n, 4096))}
}

func (w *idWindow) has(id uuid.UUID) bool {
	_, ok := w.ids[id]
	return ok
}

// add remembers id, forgetting the oldest id when the window is full.
func (w *idWindow) add(id uuid.UUID) {
	if w.has(id) {
		return
	}
	w.ids[id] = struct{}{}
	if len(w.ring) < w.n {
		w.ring = append(w.ring, id)
		return
	}
	delete(w.ids, w.ring[w.head])
	w.ring[w.head] = id
	w.head = (w.head + 1) % w.n
}
