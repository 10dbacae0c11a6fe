package segrun

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/pushpipe/pushpipe/schemas"
	"github.com/pushpipe/pushpipe/segments"
)

// restore rebuilds the partition's state before reading resumes at from
// (the committed offset) and returns the offset to read from: from itself,
// or lower when the sink has not stored everything below from yet (the
// gap is then read from Kafka again).
func (o *owner) restore(ctx context.Context, from int64) (int64, error) {
	o.snap = o.rt.catalog.load()
	stored, err := o.waitForSink(ctx, from-1)
	if err != nil {
		return 0, err
	}
	lo := min(from, stored+1)
	o.sites = map[string]*siteState{}
	for site, d := range o.snap.sites {
		o.sites[site] = &siteState{defs: d, subs: map[string]*subState{}}
	}
	if err := o.load(ctx, slices.Collect(maps.Keys(o.sites)), lo); err != nil {
		return 0, err
	}
	if err := o.scanTail(ctx, lo); err != nil {
		return 0, err
	}
	for _, site := range o.sites {
		for sub, ss := range site.subs {
			o.evaluate(site, sub, ss, o.clock, CauseRestore, "", nil)
		}
	}
	o.next = lo
	o.log.Info("segment state restored", "from_offset", lo, "committed", from, "sites", len(o.sites),
		"clock", time.UnixMilli(o.clock).UTC(), "tail_transitions", len(o.pending))
	return lo, nil
}

// waitForSink waits, at most Config.SinkWait, until ClickHouse holds the
// partition up to offset want, and returns the highest offset it holds.
func (o *owner) waitForSink(ctx context.Context, want int64) (int64, error) {
	deadline := o.rt.now().Add(o.rt.cfg.SinkWait)
	for {
		got, err := o.rt.store.Watermark(ctx, o.rt.cfg.Topic, o.part)
		if err != nil {
			return 0, err
		}
		if got >= want || !o.rt.now().Before(deadline) {
			if got < want {
				o.log.Warn("the sink has not stored the partition up to the evaluator's position; reading the gap from Kafka",
					"stored", got, "wanted", want)
			}
			return got, nil
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("wait for the sink: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// load applies the stored events of sites below offset before to fresh
// subscriber states, and sets what was emitted from the stored transitions.
// Subscribers already known keep their state: callers pass fresh sites.
func (o *owner) load(ctx context.Context, sites []string, before int64) error {
	if len(sites) == 0 {
		return nil
	}
	scope := Scope{Topic: o.rt.cfg.Topic, Partition: o.part, Before: before, Sites: sites}
	err := o.rt.store.Replay(ctx, scope, func(site, sub string, e *segments.Event) error {
		s := o.sites[site]
		s.defs.set.Apply(s.sub(sub).st, e)
		o.clock = max(o.clock, e.Time.UnixMilli())
		return nil
	})
	if err != nil {
		return err
	}
	return o.rt.store.Transitions(ctx, scope, func(site, segment, sub string, entered bool, latest time.Time) error {
		// The clock resumes no earlier than the last emitted transition,
		// so what was emitted is the membership at the clock.
		o.clock = max(o.clock, latest.UnixMilli())
		s := o.sites[site]
		if i, ok := s.defs.set.Index(segment); ok {
			s.sub(sub).emitted[i] = entered
		}
		return nil
	})
}

// scanTail reads the partition from lo to its current end and queues the
// transitions found there as pending: they were produced before a restart
// for events the replay is about to process again.
func (o *owner) scanTail(ctx context.Context, lo int64) error {
	end, err := o.rt.tail.LastOffset(ctx, o.part)
	if err != nil {
		return err
	}
	o.caughtUp = lo >= end
	if lo >= end {
		return nil
	}
	var found int
	err = o.rt.tail.Scan(ctx, o.part, lo, end, func(value []byte) {
		var e struct {
			Time       time.Time         `json:"time"`
			Type       schemas.EventType `json:"type"`
			SiteID     string            `json:"site_id"`
			Subscriber string            `json:"subscriber_id"`
			Segment    string            `json:"segment_id"`
		}
		if json.Unmarshal(value, &e) != nil || segments.Evaluated(string(e.Type)) {
			return
		}
		o.clock = max(o.clock, e.Time.UnixMilli())
		key := pendingKey(e.SiteID, e.Segment, e.Subscriber)
		o.pending[key] = append(o.pending[key], e.Type == schemas.EventSegmentEntered)
		found++
	})
	if err != nil {
		return fmt.Errorf("scan the tail of partition %d: %w", o.part, err)
	}
	o.pendingEnd = end
	return nil
}

// refresh takes a new definitions snapshot: sites whose segments changed are
// rebuilt from the stored events (after waiting for the sink to store what
// this owner has processed), and their subscribers re-evaluated; new
// segments are backfilled.
func (o *owner) refresh(ctx context.Context) error {
	snap := o.rt.catalog.load()
	if snap == o.snap {
		return nil
	}
	var changed []string
	for site, d := range snap.sites {
		if s := o.sites[site]; s == nil || s.defs != d {
			changed = append(changed, site)
		}
	}
	if len(changed) > 0 {
		if err := o.rebuild(ctx, snap, changed); err != nil {
			return err // o.snap unchanged: tried again at the next tick
		}
	}
	for site := range o.sites {
		if snap.sites[site] == nil {
			delete(o.sites, site)
		}
	}
	o.snap = snap
	return nil
}

// rebuild replaces the states of the changed sites, or leaves them as they
// were on error. It does not wait for the sink: the changed sites' events
// stored in ClickHouse are replayed, then the ones this owner processed
// beyond the sink's watermark are read again from the partition, so other
// sites' transitions are held up only for that replay.
func (o *owner) rebuild(ctx context.Context, snap *snapshot, changed []string) error {
	if err := o.flush(ctx); err != nil {
		return err
	}
	stored, err := o.rt.store.Watermark(ctx, o.rt.cfg.Topic, o.part)
	if err != nil {
		return err
	}
	lo := min(stored+1, o.next)
	old := map[string]*siteState{}
	for _, site := range changed {
		old[site] = o.sites[site]
		o.sites[site] = &siteState{defs: snap.sites[site], subs: map[string]*subState{}}
	}
	err = o.load(ctx, changed, lo)
	if err == nil {
		err = o.replayGap(ctx, old, lo, o.next)
	}
	if err != nil {
		for site, s := range old {
			if s == nil {
				delete(o.sites, site)
			} else {
				o.sites[site] = s
			}
		}
		return err
	}
	for _, site := range changed {
		o.rebase(o.sites[site], old[site])
	}
	o.log.Info("segment definitions changed; sites rebuilt", "sites", len(changed), "from_kafka", o.next-lo)
	return nil
}

// replayGap applies the rebuilt sites' events of offsets [from, to), read
// from the partition.
func (o *owner) replayGap(ctx context.Context, rebuilt map[string]*siteState, from, to int64) error {
	return o.rt.tail.Scan(ctx, o.part, from, to, func(value []byte) {
		var e schemas.Event
		if json.Unmarshal(value, &e) != nil || o.replayErase(rebuilt, &e) || !segments.Evaluated(string(e.Type)) {
			return
		}
		if _, ok := rebuilt[e.SiteID]; !ok {
			return
		}
		s := o.sites[e.SiteID]
		ev := segments.FromSchema(&e)
		s.defs.set.Apply(s.sub(e.SubscriberID).st, &ev)
	})
}

// rebase carries what was emitted over from the site's previous state (it
// is more recent than what ClickHouse holds) and re-evaluates everyone.
func (o *owner) rebase(s, prev *siteState) {
	fresh := map[string]bool{}
	for _, id := range s.defs.set.Segments() {
		if prev == nil {
			fresh[id] = true
		} else if _, ok := prev.defs.set.Index(id); !ok {
			fresh[id] = true
		}
	}
	for sub, ss := range s.subs {
		if prev != nil {
			if p := prev.subs[sub]; p != nil {
				for i, id := range s.defs.set.Segments() {
					if j, ok := prev.defs.set.Index(id); ok {
						ss.emitted[i] = p.emitted[j]
					}
				}
			}
		}
		o.evaluate(s, sub, ss, o.clock, CauseDefinitionChanged, "", fresh)
	}
}
