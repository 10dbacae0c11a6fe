package segrun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/segmentio/kafka-go"

	"github.com/pushpipe/pushpipe/schemas"
	"github.com/pushpipe/pushpipe/segments"
)

// Causes of a transition, in the event's reason field.
const (
	CauseEvent             = "event"              // an event of the subscriber (props.cause_event_id names it)
	CauseTimer             = "timer"              // a window ended
	CauseRestore           = "restore"            // found when the evaluator restored its state
	CauseBackfill          = "backfill"           // the segment is new: its members at creation
	CauseDefinitionChanged = "definition_changed" // the segment's rule changed
)

// owner is the single goroutine owning one partition's state.
type owner struct {
	rt    *Runner
	part  int
	log   *slog.Logger
	snap  *snapshot
	sites map[string]*siteState
	clock int64 // Unix ms: the instant of evaluation, never decreasing
	next  int64 // next offset to process
	// caughtUp: the last message read was the partition's last one.
	caughtUp bool
	timers   timerHeap
	dedup    *dedup
	// pending lists, per site/segment/subscriber, the transitions found in
	// the partition's tail at restore, oldest first: the replay recognises
	// them instead of producing them again. Dropped once the replay passes
	// pendingEnd.
	pending    map[string][]bool
	pendingEnd int64
	out        []kafka.Message
	members    []bool
}

type siteState struct {
	defs *siteDefs
	subs map[string]*subState
}

type subState struct {
	st      *segments.Subscriber
	emitted []bool // membership last emitted, by Set.Segments index
	due     int64  // pending timer, 0 if none
}

func newOwner(rt *Runner, part int) *owner {
	return &owner{
		rt: rt, part: part, log: rt.log.With("partition", part),
		sites: map[string]*siteState{}, dedup: newDedup(rt.cfg.DedupWindow), pending: map[string][]bool{},
	}
}

func (s *siteState) sub(id string) *subState {
	ss := s.subs[id]
	if ss == nil {
		ss = &subState{st: s.defs.set.NewSubscriber(), emitted: make([]bool, len(s.defs.set.Segments()))}
		s.subs[id] = ss
	}
	return ss
}

// handle processes one message of the partition.
func (o *owner) handle(m kafka.Message) {
	if m.Offset < o.next {
		return // delivered again
	}
	o.next = m.Offset + 1
	o.caughtUp = m.Offset+1 >= m.HighWaterMark
	if o.pendingEnd > 0 && o.next >= o.pendingEnd {
		clear(o.pending)
		o.pendingEnd = 0
	}
	var e schemas.Event
	if err := json.Unmarshal(m.Value, &e); err != nil || e.SiteID == "" || e.SubscriberID == "" {
		return // the sink dead-letters it
	}
	if o.erase(&e) {
		return
	}
	site := o.sites[e.SiteID]
	if site == nil || !segments.Evaluated(string(e.Type)) || o.dedup.repeat(e.EventID) {
		return
	}
	o.rt.stats.events.Add(1)
	if t := e.Time.UnixMilli(); t > o.clock {
		o.fireTimers(t - 1)
		o.clock = t
	}
	ss := site.sub(e.SubscriberID)
	ev := segments.FromSchema(&e)
	site.defs.set.Apply(ss.st, &ev)
	o.evaluate(site, e.SubscriberID, ss, o.clock, CauseEvent, e.EventID, nil)
	o.fireTimers(o.clock)
}

// advance moves the clock to now when the partition is read to its end, so
// windows end on time when no event comes.
func (o *owner) advance(now time.Time) {
	if !o.caughtUp {
		return
	}
	if t := now.UnixMilli(); t > o.clock {
		o.fireTimers(t)
		o.clock = t
	}
}

// fireTimers re-evaluates every subscriber whose timer is due at or before
// limit, in due order, each at its due instant.
func (o *owner) fireTimers(limit int64) {
	for {
		tm, ok := o.timers.popDue(limit)
		if !ok {
			return
		}
		site := o.sites[tm.site]
		if site == nil {
			continue
		}
		ss := site.subs[tm.sub]
		if ss == nil || ss.due != tm.due {
			continue
		}
		ss.due = 0
		o.evaluate(site, tm.sub, ss, tm.due, CauseTimer, "", nil)
	}
}

// evaluate computes the subscriber's membership at instant at, emits what
// changed, and sets the next timer. Segments in fresh are new to the site:
// their entries are backfills.
func (o *owner) evaluate(site *siteState, sub string, ss *subState, at int64, cause, causeID string, fresh map[string]bool) {
	set := site.defs.set
	when := time.UnixMilli(at).UTC()
	o.members = set.Members(ss.st, when, o.members)
	for i, m := range o.members {
		if m == ss.emitted[i] {
			continue
		}
		ss.emitted[i] = m
		c := cause
		if fresh[set.Segments()[i]] {
			c = CauseBackfill
		}
		o.transition(site, set.Segments()[i], sub, m, when, c, causeID)
	}
	next := set.Next(ss.st, when)
	switch {
	case next.IsZero():
		ss.due = 0
	case next.UnixMilli() != ss.due:
		ss.due = next.UnixMilli()
		o.timers.add(timer{due: ss.due, site: siteID(site), sub: sub})
	}
}

// siteID is the site a state belongs to (kept on the Set's owner map key).
func siteID(s *siteState) string { return s.defs.site }

func pendingKey(site, segment, sub string) string { return site + "\x00" + segment + "\x00" + sub }

// transition queues a segment_entered or segment_exited event, unless the
// partition's tail already holds it from before a restart.
func (o *owner) transition(site *siteState, segment, sub string, entered bool, at time.Time, cause, causeID string) {
	key := pendingKey(siteID(site), segment, sub)
	if q := o.pending[key]; len(q) > 0 && q[0] == entered {
		o.pending[key] = q[1:]
		o.rt.stats.recognised.Add(1)
		return
	}
	typ := schemas.EventSegmentExited
	if entered {
		typ = schemas.EventSegmentEntered
	}
	id, err := uuid.NewV7()
	if err != nil {
		id = uuid.New()
	}
	e := schemas.Event{
		EventID: id.String(), SiteID: siteID(site), SubscriberID: sub, Type: typ,
		Time: at, ClientTime: at, ServerTime: o.rt.now().UTC(), SegmentID: segment, Reason: cause,
	}
	if causeID != "" {
		e.Props = map[string]string{"cause_event_id": causeID}
	}
	value, err := json.Marshal(e)
	if err != nil {
		o.log.Error("encode transition", "err", err)
		return
	}
	o.out = append(o.out, kafka.Message{Key: []byte(e.Key()), Value: value})
	o.rt.stats.transitions.Add(1)
}

// flush produces the queued transitions, retrying until they are written or
// ctx ends (then they are not committed either, and a restart makes them
// again).
func (o *owner) flush(ctx context.Context) error {
	for len(o.out) > 0 {
		err := o.rt.producer.WriteMessages(ctx, o.out...)
		if err == nil {
			o.out = o.out[:0]
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("produce %d transitions: %w", len(o.out), errors.Join(err, ctx.Err()))
		}
		o.log.Warn("producing transitions failed; retrying", "count", len(o.out), "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
	return nil
}
