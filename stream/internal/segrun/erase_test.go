package segrun

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/schemas"
)

func erasedEvent(t *testing.T, siteID, sub string, at time.Time) []byte {
	v, err := json.Marshal(schemas.Event{
		EventID: uuid.NewString(), SiteID: siteID, SubscriberID: sub,
		Type: schemas.EventSubscriberErased, Time: at,
	})
	require.NoError(t, err)
	return v
}

// TestErasedSubscriberIsForgotten: after subscriber_erased the owner holds
// nothing of that subscriber: its timer does not fire (no segment_exited,
// which would store it again), and a later event starts from an empty
// state. Another subscriber, and the same id on another site, are untouched.
func TestErasedSubscriberIsForgotten(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	defs := &fakeDefs{}
	defs.add(t, "recent", `event page_view within 1m`)
	defs.add(t, "twice", `event page_view count >= 2 within 1h`)
	log := &fakeLog{values: [][]byte{
		event(t, "a", schemas.EventPageView, "", t0),
		event(t, "b", schemas.EventPageView, "", t0),
		erasedEvent(t, site, "a", t0.Add(time.Second)),
		erasedEvent(t, "another-site", "b", t0.Add(time.Second)),
	}}
	h := newHarness(t, defs, log, t0)
	o := newOwner(h.rt, 0)
	_, err := o.restore(t.Context(), 0)
	require.NoError(t, err)
	feed(o, log, 0)
	require.NotContains(t, o.sites[site].subs, "a")
	require.Contains(t, o.sites[site].subs, "b")

	o.advance(t0.Add(2 * time.Minute))
	require.NoError(t, o.flush(t.Context()))
	require.Equal(t, []string{
		"segment_entered recent a event 2026-03-01T10:00:00Z",
		"segment_entered recent b event 2026-03-01T10:00:00Z",
		"segment_exited recent b timer 2026-03-01T10:01:00Z",
	}, transitionsOf(h.prod), "a's timer died with its state; b's still fires")

	// a comes back: one page view is not two within the hour, because the
	// erased one is forgotten.
	h.prod.sent = nil
	log.values = append(log.values, event(t, "a", schemas.EventPageView, "", t0.Add(3*time.Minute)))
	feed(o, log, len(log.values)-1)
	require.NoError(t, o.flush(t.Context()))
	require.Equal(t, []string{"segment_entered recent a event 2026-03-01T10:03:00Z"}, transitionsOf(h.prod))
}

// TestErasureDropsQueuedTailTransitions: transitions of the erased
// subscriber found in the tail at restore are no longer expected.
func TestErasureDropsQueuedTailTransitions(t *testing.T) {
	h := newHarness(t, &fakeDefs{}, &fakeLog{}, time.Now())
	o := newOwner(h.rt, 0)
	o.pending[pendingKey(site, "s1", "a")] = []bool{true}
	o.pending[pendingKey(site, "s2", "a")] = []bool{true, false}
	o.pending[pendingKey(site, "s1", "b")] = []bool{true}
	o.pending[pendingKey("another-site", "s1", "a")] = []bool{true}
	e := schemas.Event{SiteID: site, SubscriberID: "a", Type: schemas.EventSubscriberErased}
	require.True(t, o.erase(&e))
	require.Len(t, o.pending, 2)
	require.Contains(t, o.pending, pendingKey(site, "s1", "b"))
	require.Contains(t, o.pending, pendingKey("another-site", "s1", "a"))
	require.False(t, o.erase(&schemas.Event{SiteID: site, SubscriberID: "b", Type: schemas.EventPageView}))
}

// TestErasureHoldsThroughARebuild: a definition change replays the
// partition's unstored offsets; the erasure in them keeps the erased
// subscriber out of the rebuilt state (no backfill entry for them).
func TestErasureHoldsThroughARebuild(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	defs := &fakeDefs{}
	defs.add(t, "recent", `event page_view within 1h`)
	log := &fakeLog{values: [][]byte{
		event(t, "a", schemas.EventPageView, "", t0),
		event(t, "b", schemas.EventPageView, "", t0),
		erasedEvent(t, site, "a", t0.Add(time.Second)),
	}}
	h := newHarness(t, defs, log, t0)
	o := newOwner(h.rt, 0)
	_, err := o.restore(t.Context(), 0)
	require.NoError(t, err)
	feed(o, log, 0)
	require.NoError(t, o.flush(t.Context()))
	h.prod.sent = nil

	defs.add(t, "viewers", `event page_view within 1d`)
	require.NoError(t, h.rt.catalog.refresh(t.Context()))
	require.NoError(t, o.refresh(t.Context())) // the sink stored nothing: the whole partition is replayed
	require.NoError(t, o.flush(t.Context()))
	require.Equal(t, []string{"segment_entered viewers b backfill 2026-03-01T10:00:00Z"}, transitionsOf(h.prod))
	require.NotContains(t, o.sites[site].subs, "a")
}
