package simulate

import (
	"time"

	"github.com/pushpipe/pushpipe/schemas"
)

// batch is one beacon as a browser sends it: events of one visitor, with the
// visitor's headers and clock skew (for sent_at).
type batch struct {
	visitor   int
	userAgent string
	language  string
	skew      time.Duration
	events    []schemas.BeaconEvent
	kinds     []InvalidKind // parallel to events: Valid or how the event was broken on purpose
}

func (b *batch) add(e schemas.BeaconEvent, k InvalidKind) {
	b.events = append(b.events, e)
	b.kinds = append(b.kinds, k)
}

// invalidCount is how many events of the batch were broken on purpose.
func (b *batch) invalidCount() int {
	n := 0
	for _, k := range b.kinds {
		if k != Valid {
			n++
		}
	}
	return n
}

// generator cuts the visitors' journeys into batches, interleaving a pool of
// active visitors as a real site sees them, and mixes in invalid events.
// It is not safe for concurrent use: one goroutine drives it, which is what
// makes a run reproducible from its seed.
type generator struct {
	r          rnd
	origin     string
	clock      func() time.Time // read when a visitor arrives: its journey ends then
	span       time.Duration
	batchSize  int
	visitors   int // still to create
	created    int
	poolSize   int
	active     []*visitor
	eventsLeft int // < 0: no limit
	invalid    float64
	acc        float64 // invalid-event accumulator: one invalid event each time it reaches 1
	nextKind   InvalidKind
}

// ageMargin keeps the oldest generated event this far inside the span, so
// that none is older than Days when it reaches ingest (which refuses events
// older than a week).
const ageMargin = time.Hour

func newGenerator(cfg Config, clock func() time.Time) *generator {
	r := newRnd(cfg.Seed)
	g := &generator{
		r:          r,
		origin:     cfg.Origin,
		clock:      clock,
		span:       max(time.Duration(cfg.Days)*24*time.Hour-ageMargin, 0),
		batchSize:  cfg.Batch,
		visitors:   cfg.Visitors,
		poolSize:   min(cfg.Visitors, max(4*cfg.Concurrency, 16)),
		eventsLeft: -1,
		invalid:    cfg.Invalid,
	}
	if cfg.Events > 0 {
		g.eventsLeft = cfg.Events
	}
	if g.origin == "" {
		g.origin = DefaultOrigin
	}
	g.acc = r.Float64()
	g.nextKind = 1 + InvalidKind(r.IntN(int(numKinds)-1))
	return g
}

// next returns the next batch, or false when every visitor is done or the event limit is reached.
func (g *generator) next() (batch, bool) {
	if g.eventsLeft == 0 {
		return batch{}, false
	}
	for len(g.active) < g.poolSize && g.created < g.visitors {
		g.active = append(g.active, newVisitor(g.r, g.created, g.origin, g.clock(), g.span))
		g.created++
	}
	if len(g.active) == 0 {
		return batch{}, false
	}
	i := g.r.IntN(len(g.active))
	v := g.active[i]
	b := g.chunk(v)
	if v.done() {
		g.active = append(g.active[:i], g.active[i+1:]...)
	}
	return b, true
}

// chunk takes up to batchSize events of the visitor's current session,
// replacing the share of slots the invalid fraction asks for with broken events.
func (g *generator) chunk(v *visitor) batch {
	b := batch{visitor: v.idx, userAgent: v.browser.ua, language: v.lang, skew: v.skew}
	sess := v.sessions[v.cur]
	for len(b.events) < g.batchSize && v.pos < len(sess) && g.eventsLeft != 0 {
		if g.eventsLeft > 0 {
			g.eventsLeft--
		}
		g.acc += g.invalid
		if g.acc >= 1 {
			g.acc--
			b.add(makeInvalid(g.r, g.nextKind, sess[v.pos]), g.nextKind)
			g.nextKind = 1 + g.nextKind%(numKinds-1)
			continue
		}
		b.add(sess[v.pos], Valid)
		v.pos++
	}
	if v.pos == len(sess) {
		v.cur, v.pos = v.cur+1, 0
	}
	return b
}
