package automate

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/automation"
	"github.com/pushpipe/pushpipe/internal/controlplane"
	"github.com/pushpipe/pushpipe/schemas"
)

const cartAbandon = `{"trigger": {"kind": "absence",
	"event": {"type": "custom", "name": "add_to_cart"},
	"then_not": {"type": "conversion", "name": "purchase"},
	"within": "30m", "correlate": "cart_id"},
	"steps": [{"delay": "5m", "message": {"title": "Your cart {{ event.cart_id }}", "url": "https://shop.example/cart"}}]}`

func TestTriggersStartRuns(t *testing.T) {
	w := newWorld(t)
	viewed := w.automation(t, `{"trigger": {"kind": "event", "event": {"type": "page_view", "where": [{"field": "url", "op": "contains", "value": "/pricing"}]}},
		"steps": [{"delay": "10m", "message": `+msg("Questions?")+`}]}`, statusEnabled)
	entered := w.automation(t, `{"trigger": {"kind": "segment_entered", "segment": "vip"}, "steps": [{"message": `+msg("Welcome VIP")+`}]}`, statusEnabled)
	welcome := w.automation(t, `{"trigger": {"kind": "subscribed"}, "steps": [{"message": `+msg("Hi")+`}]}`, statusEnabled)
	w.automation(t, `{"trigger": {"kind": "subscribed"}, "steps": [{"message": `+msg("paused")+`}]}`, statusPaused)
	w.automation(t, `{"trigger": {"kind": "segment_exited", "segment": "vip"}, "steps": [{"message": `+msg("Bye")+`}]}`, statusDisabled)

	pricing := w.event("s1", schemas.EventPageView, "", nil)
	pricing.URL = "https://shop.example/pricing"
	other := w.event("s1", schemas.EventPageView, "", nil)
	other.URL = "https://shop.example/blog"
	vip := w.event("s1", schemas.EventSegmentEntered, "", nil)
	vip.SegmentID, vip.Reason = "vip", "event"
	backfill := w.event("s1", schemas.EventSegmentEntered, "", nil)
	backfill.SegmentID, backfill.Reason = "vip", "backfill"
	otherSeg := w.event("s1", schemas.EventSegmentEntered, "", nil)
	otherSeg.SegmentID, otherSeg.Reason = "churned", "event"
	exited := w.event("s1", schemas.EventSegmentExited, "", nil)
	exited.SegmentID, exited.Reason = "vip", "timer"

	tests := []struct {
		name string
		ev   *schemas.Event
		want []string // automation ids started
		due  time.Duration
	}{
		{"event with a matching filter", pricing, []string{viewed}, 10 * time.Minute},
		{"event whose filter fails", other, nil, 0},
		{"segment entry", vip, []string{entered}, 0},
		{"backfill entry never triggers", backfill, nil, 0},
		{"another segment", otherSeg, nil, 0},
		{"exit of a disabled automation", exited, nil, 0},
		{"subscribe: the enabled welcome only", w.event("s1", schemas.EventSubscribed, "", nil), []string{welcome}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			starts, cancels := w.rt.catalog.load().triggered(tt.ev)
			require.Empty(t, cancels)
			var got []string
			for _, s := range starts {
				got = append(got, s.a.ID)
				require.Equal(t, automation.RequestID(s.a.ID, 0, "s1", tt.ev.EventID), s.row.ID, "deterministic request id")
				require.Equal(t, tt.ev.Time.Add(tt.due), s.row.DueAt)
				require.Equal(t, 1, s.row.AutomationVersion)
				require.Equal(t, 0, s.row.Step)
				require.Equal(t, sourceAutomation, s.row.Source)
			}
			require.Equal(t, tt.want, got)
		})
	}
}

func TestAbsenceRunIsDueAfterTheWindowAndCancelledBySecondEvent(t *testing.T) {
	w := newWorld(t)
	id := w.automation(t, cartAbandon, statusEnabled)
	add := w.event("s1", schemas.EventCustom, "add_to_cart", map[string]string{"cart_id": "c1"})
	w.trigger(t, add)
	row := w.store.row(t, automation.RequestID(id, 0, "s1", add.EventID))
	require.Equal(t, add.Time.Add(35*time.Minute), row.DueAt, "E1 time + within + delay")
	require.Equal(t, id+"|s1|c1", row.CancelKey)
	vars, at := decodeTriggerProps(row.TriggerProps)
	require.Equal(t, "c1", vars["cart_id"])
	require.Equal(t, "add_to_cart", vars["name"])
	require.True(t, at.Equal(add.Time))

	w.trigger(t, w.event("s1", schemas.EventConversion, "purchase", map[string]string{"cart_id": "c2"}))
	require.Equal(t, statePending, w.store.row(t, row.ID).State, "another cart's purchase cancels nothing")
	w.trigger(t, w.event("s1", schemas.EventConversion, "purchase", map[string]string{"cart_id": "c1"}))
	require.Equal(t, "cancelled", w.store.row(t, row.ID).State)
	require.EqualValues(t, 1, w.rt.Stats().Cancelled)

	w.trigger(t, add) // a replay inserts nothing new and revives nothing
	require.Equal(t, "cancelled", w.store.row(t, row.ID).State)
	require.Len(t, w.store.all(), 1)
}

func TestCooldownKeepsASubscriberFromReentering(t *testing.T) {
	w := newWorld(t)
	w.automation(t, `{"trigger": {"kind": "event", "event": {"type": "custom", "name": "viewed"}}, "cooldown": "1h",
		"steps": [{"message": `+msg("Hi")+`}]}`, statusEnabled)
	w.trigger(t, w.event("s1", schemas.EventCustom, "viewed", nil))
	w.now = w.now.Add(30 * time.Minute)
	w.trigger(t, w.event("s1", schemas.EventCustom, "viewed", nil))
	require.Len(t, w.store.all(), 1, "within the cooldown")
	w.trigger(t, w.event("s2", schemas.EventCustom, "viewed", nil))
	require.Len(t, w.store.all(), 2, "another subscriber")
	w.now = w.now.Add(31 * time.Minute)
	w.trigger(t, w.event("s1", schemas.EventCustom, "viewed", nil))
	require.Len(t, w.store.all(), 3, "after the cooldown")
}

func TestAutomationCreatedJustBeforeTheEventTriggers(t *testing.T) {
	w := newWorld(t)
	require.NoError(t, w.rt.catalog.refresh(t.Context())) // the catalog as of w.now
	id := uuid.NewString()
	w.store.put(controlplane.Automation{
		ID: id, SiteID: w.site, Status: statusEnabled, Version: 1,
		Definition: json.RawMessage(`{"trigger": {"kind": "subscribed"}, "steps": [{"message": ` + msg("Hi") + `}]}`),
	})

	old := w.event("s1", schemas.EventSubscribed, "", nil)
	old.ServerTime = w.now.Add(-time.Second) // accepted before the catalog was read
	w.trigger(t, old)
	require.Empty(t, w.store.all(), "the catalog was current for it")

	w.now = w.now.Add(time.Second)
	e := w.event("s2", schemas.EventSubscribed, "", nil)
	e.ServerTime = w.now // accepted after the automation was written
	w.trigger(t, e)
	rows := w.store.all()
	require.Len(t, rows, 1)
	require.Equal(t, id, rows[0].AutomationID)
}
