package automate

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/automation"
	"github.com/pushpipe/pushpipe/internal/controlplane"
	"github.com/pushpipe/pushpipe/schemas"
	"github.com/pushpipe/pushpipe/segments"
)

func TestDispatchSendsRenderedRequest(t *testing.T) {
	w := newWorld(t)
	id := w.automation(t, `{"trigger": {"kind": "event", "event": {"type": "custom", "name": "add_to_cart"}},
		"steps": [{"message": {"title": "{{ subscriber.first_name | default: \"Hey\" }}, {{ event.item }} is waiting",
			"url": "https://shop.example/cart", "ttl_seconds": 3600, "urgency": "high", "topic": "cart"}}]}`, statusEnabled)
	w.subscribe("s1", map[string]string{"attr.first_name": "Ada", "country": "FR"})
	w.subscribe("s2", nil)
	e1 := w.event("s1", schemas.EventCustom, "add_to_cart", map[string]string{"item": "Lamp"})
	w.trigger(t, e1)
	w.trigger(t, w.event("s2", schemas.EventCustom, "add_to_cart", map[string]string{"item": "Desk"}))
	w.dispatch(t)

	reqs := w.requests.requests(t)
	require.Len(t, reqs, 2)
	byTitle := map[string]schemas.PushRequest{}
	for i, title := range titles(t, reqs) {
		byTitle[title] = reqs[i]
	}
	r, ok := byTitle["Ada, Lamp is waiting"]
	require.True(t, ok, "personalised: %v", titles(t, reqs))
	require.Contains(t, byTitle, "Hey, Desk is waiting", "default when the attribute is missing")
	require.Equal(t, automation.RequestID(id, 0, "s1", e1.EventID), r.RequestID)
	require.Equal(t, w.site, r.SiteID)
	require.Equal(t, id, r.AutomationID)
	require.Equal(t, "0", r.StepID)
	require.Equal(t, 3600, r.TTLSeconds)
	require.Equal(t, "high", r.Urgency)
	require.Equal(t, "cart", r.Topic)
	require.Equal(t, "https://push.example/s1", r.Subscription.Endpoint)
	require.True(t, r.NotAfter.Equal(e1.Time.Add(sendLifetime)))
	for _, row := range w.store.all() {
		require.Equal(t, stateSent, row.State)
	}
	w.dispatch(t)
	require.Len(t, w.requests.requests(t), 2, "a sent row is not sent again")
}

func TestDispatchDecisions(t *testing.T) {
	const step = `"message": {"title": "Hi", "url": "https://shop.example/"}`
	tests := []struct {
		name      string
		def       string
		status    string
		setup     func(w *world, sub string)
		wantState string
		wantWhy   string
	}{
		{name: "sent", def: `{"trigger": {"kind": "subscribed"}, "steps": [{` + step + `}]}`, wantState: stateSent},
		{
			name: "paused automation", def: `{"trigger": {"kind": "subscribed"}, "steps": [{` + step + `}]}`, status: statusPaused,
			wantState: stateSkipped, wantWhy: "paused",
		},
		{
			name: "disabled automation", def: `{"trigger": {"kind": "subscribed"}, "steps": [{` + step + `}]}`, status: statusDisabled,
			wantState: stateSkipped, wantWhy: "disabled",
		},
		{
			name: "unsubscribed", def: `{"trigger": {"kind": "subscribed"}, "steps": [{` + step + `}]}`,
			setup: func(w *world, sub string) {
				s := w.lookup.subs[w.site+":"+sub]
				s.Status = "unsubscribed"
				w.lookup.subs[w.site+":"+sub] = s
			},
			wantState: stateSkipped, wantWhy: "unsubscribed",
		},
		{
			name: "subscriber not stored yet: waits", def: `{"trigger": {"kind": "subscribed"}, "steps": [{` + step + `}]}`,
			setup:     func(w *world, sub string) { delete(w.lookup.subs, w.site+":"+sub) },
			wantState: statePending, wantWhy: "awaiting_subscription",
		},
		{
			name: "no longer in the segment", def: `{"trigger": {"kind": "subscribed"}, "steps": [{"still_in_segment": "vip", ` + step + `}]}`,
			setup:     func(w *world, sub string) { w.lookup.membership[w.site+"|vip|"+sub] = false },
			wantState: stateSkipped, wantWhy: reasonLeftSegment,
		},
		{
			name: "still in the segment", def: `{"trigger": {"kind": "subscribed"}, "steps": [{"still_in_segment": "vip", ` + step + `}]}`,
			setup:     func(w *world, sub string) { w.lookup.membership[w.site+"|vip|"+sub] = true },
			wantState: stateSent,
		},
		{
			name: "converted since the trigger", def: `{"trigger": {"kind": "subscribed"},
			"steps": [{"unless_event": {"type": "conversion", "name": "purchase"}, ` + step + `}]}`,
			setup: func(w *world, sub string) {
				w.now = w.now.Add(time.Minute)
				w.lookup.events[w.site+":"+sub] = []segments.Event{{ID: "p", Type: "conversion", Name: "purchase", Time: w.now.Add(-time.Second)}}
			},
			wantState: stateSkipped, wantWhy: reasonUnlessEvent,
		},
		{
			name: "converted before the trigger counts not", def: `{"trigger": {"kind": "subscribed"},
			"steps": [{"unless_event": {"type": "conversion", "name": "purchase"}, ` + step + `}]}`,
			setup: func(w *world, sub string) {
				w.lookup.events[w.site+":"+sub] = []segments.Event{{ID: "p", Type: "conversion", Name: "purchase", Time: w.now.Add(-time.Hour)}}
			},
			wantState: stateSent,
		},
		{
			name: "frequency cap holds", def: `{"trigger": {"kind": "subscribed"}, "steps": [{` + step + `}]}`,
			setup: func(w *world, sub string) {
				w.store.settings.Policy = automation.Policy{CapCount: 1, CapWindow: 24 * time.Hour}
				w.store.dispatches[w.site+":"+sub] = []time.Time{w.now.Add(-time.Hour)}
			},
			wantState: statePending, wantWhy: automation.DropFrequencyCap,
		},
		{
			name: "quiet hours hold", def: `{"trigger": {"kind": "subscribed"}, "steps": [{` + step + `}]}`,
			setup: func(w *world, _ string) {
				w.store.settings.Policy = automation.Policy{QuietStart: 11 * 60, QuietEnd: 13 * 60, QuietMode: automation.QuietHold}
			},
			wantState: statePending, wantWhy: automation.DropQuietHours,
		},
		{
			name: "quiet hours drop", def: `{"trigger": {"kind": "subscribed"}, "steps": [{` + step + `}]}`,
			setup: func(w *world, _ string) {
				w.store.settings.Policy = automation.Policy{QuietStart: 11 * 60, QuietEnd: 13 * 60, QuietMode: automation.QuietDrop}
			},
			wantState: stateSkipped, wantWhy: automation.DropQuietHours,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			id := w.automation(t, tt.def, statusEnabled)
			w.subscribe("s1", nil)
			w.trigger(t, w.event("s1", schemas.EventSubscribed, "", nil))
			if tt.status != "" { // paused or disabled after the run started
				w.store.put(controlplane.Automation{ID: id, SiteID: w.site, Status: tt.status, Version: 1, Definition: json.RawMessage(tt.def)})
				require.NoError(t, w.rt.catalog.refresh(t.Context()))
			}
			if tt.setup != nil {
				tt.setup(w, "s1")
			}
			w.dispatch(t)
			rows := w.store.all()
			require.Len(t, rows, 1)
			require.Equal(t, tt.wantState, rows[0].State)
			require.Equal(t, tt.wantWhy, rows[0].Reason)
			require.Equal(t, tt.wantState == stateSent, len(w.requests.requests(t)) == 1, "a request exactly when sent")
			if tt.wantState == statePending {
				require.True(t, rows[0].DueAt.After(w.now), "held until later")
			}
		})
	}
}

// heldOutSubscriber finds a subscriber id the holdout of subject at pct
// selects (in) or not.
func heldOutSubscriber(t *testing.T, subject string, pct float64, in bool) string {
	t.Helper()
	for i := range 10_000 {
		sub := fmt.Sprintf("sub-%d", i)
		if automation.InHoldout(subject, sub, pct) == in {
			return sub
		}
	}
	t.Fatal("no such subscriber")
	return ""
}

func TestHoldoutMemberGetsNoPushAndAHeldOutEvent(t *testing.T) {
	w := newWorld(t)
	id := w.automation(t, `{"trigger": {"kind": "subscribed"}, "holdout_pct": 20,
		"steps": [{"message": `+msg("Hi")+`}]}`, statusEnabled)
	out := heldOutSubscriber(t, id, 20, true)
	in := heldOutSubscriber(t, id, 20, false)
	for _, sub := range []string{out, in} {
		w.subscribe(sub, nil)
		w.trigger(t, w.event(sub, schemas.EventSubscribed, "", nil))
	}
	w.dispatch(t)

	reqs := w.requests.requests(t)
	require.Len(t, reqs, 1)
	require.Equal(t, in, reqs[0].SubscriberID)
	events := w.events.events(t)
	require.Len(t, events, 1)
	e := events[0]
	require.Equal(t, schemas.EventPushHeldOut, e.Type)
	require.Equal(t, out, e.SubscriberID)
	require.Equal(t, id, e.AutomationID)
	require.Equal(t, "0", e.Props["step_id"])
	row := w.store.row(t, e.PushID)
	require.Equal(t, stateHeldOut, row.State)
	_, err := uuid.Parse(e.EventID)
	require.NoError(t, err)
}

func TestAbsenceIsRecheckedAtSendTime(t *testing.T) {
	w := newWorld(t)
	w.automation(t, cartAbandon, statusEnabled)
	for _, sub := range []string{"bought", "bought-other-cart"} {
		w.subscribe(sub, nil)
		w.trigger(t, w.event(sub, schemas.EventCustom, "add_to_cart", map[string]string{"cart_id": "c1"}))
	}
	start := w.now
	// Purchases the consumer did not see (another instance, or a crash): only ClickHouse has them.
	w.lookup.events[w.site+":bought"] = []segments.Event{{ID: "p1", Type: "conversion", Name: "purchase", Time: start.Add(10 * time.Minute), Props: map[string]string{"cart_id": "c1"}}}
	w.lookup.events[w.site+":bought-other-cart"] = []segments.Event{{ID: "p2", Type: "conversion", Name: "purchase", Time: start.Add(10 * time.Minute), Props: map[string]string{"cart_id": "c9"}}}
	w.now = start.Add(34 * time.Minute)
	w.dispatch(t)
	require.Empty(t, w.requests.requests(t), "not due before E1 + within + delay")
	w.now = start.Add(35 * time.Minute)
	w.dispatch(t)
	reqs := w.requests.requests(t)
	require.Len(t, reqs, 1)
	require.Equal(t, "bought-other-cart", reqs[0].SubscriberID)
	require.Equal(t, []string{"Your cart c1"}, titles(t, reqs))
	for _, r := range w.store.all() {
		if r.SubscriberID == "bought" {
			require.Equal(t, stateSkipped, r.State)
			require.Equal(t, reasonAbsenceEnded, r.Reason)
		}
	}
}

const series = `{"trigger": {"kind": "event", "event": {"type": "custom", "name": "add_to_cart"}},
	"steps": [
		{"message": {"title": "Step one", "url": "https://shop.example/"}},
		{"delay": "1d", "unless_event": {"type": "conversion"}, "message": {"title": "Step two", "url": "https://shop.example/"}},
		{"delay": "2d", "message": {"title": "Step three", "url": "https://shop.example/"}}]}`

func TestSeriesSchedulesTheNextStepAfterSending(t *testing.T) {
	w := newWorld(t)
	id := w.automation(t, series, statusEnabled)
	w.subscribe("s1", nil)
	e := w.event("s1", schemas.EventCustom, "add_to_cart", nil)
	w.trigger(t, e)
	start := w.now
	w.dispatch(t)
	step1 := w.store.row(t, automation.RequestID(id, 1, "s1", e.EventID))
	require.Equal(t, statePending, step1.State)
	require.Equal(t, start.Add(24*time.Hour), step1.DueAt)
	require.Equal(t, 1, step1.Step)
	require.Equal(t, 1, step1.AutomationVersion)

	// The definition changes: the run under way keeps rendering version 1.
	w.store.put(controlplane.Automation{
		ID: id, SiteID: w.site, Status: statusEnabled, Version: 2,
		Definition: json.RawMessage(`{"trigger": {"kind": "subscribed"}, "steps": [{"message": {"title": "v2", "url": "https://x.example/"}}]}`),
	})
	require.NoError(t, w.rt.catalog.refresh(t.Context()))

	w.now = start.Add(24 * time.Hour)
	w.dispatch(t)
	require.Equal(t, []string{"Step one", "Step two"}, titles(t, w.requests.requests(t)))
	step2 := w.store.row(t, automation.RequestID(id, 2, "s1", e.EventID))
	require.Equal(t, start.Add(72*time.Hour), step2.DueAt)
	require.Equal(t, 2, step2.Step)
}

func TestSeriesStopsWhenTheNextStepsConditionHappened(t *testing.T) {
	w := newWorld(t)
	id := w.automation(t, series, statusEnabled)
	w.subscribe("s1", nil)
	e := w.event("s1", schemas.EventCustom, "add_to_cart", nil)
	w.trigger(t, e)
	w.lookup.events[w.site+":s1"] = []segments.Event{{ID: "c", Type: "conversion", Time: w.now.Add(time.Millisecond)}}
	w.now = w.now.Add(time.Second)
	w.dispatch(t)
	require.Equal(t, []string{"Step one"}, titles(t, w.requests.requests(t)))
	rows := w.store.all()
	require.Len(t, rows, 1, "step two is not scheduled: the subscriber converted")
	require.Equal(t, automation.RequestID(id, 0, "s1", e.EventID), rows[0].ID)
}

func TestSiteThrottleLeavesRowsPending(t *testing.T) {
	w := newWorld(t)
	w.store.settings.SendRatePerMinute = 60 // one per second, burst one
	w.automation(t, `{"trigger": {"kind": "subscribed"}, "steps": [{"message": `+msg("Hi")+`}]}`, statusEnabled)
	for _, sub := range []string{"a", "b", "c"} {
		w.subscribe(sub, nil)
		w.trigger(t, w.event(sub, schemas.EventSubscribed, "", nil))
	}
	w.dispatch(t)
	require.Len(t, w.requests.requests(t), 1)
	var throttled int
	for _, r := range w.store.all() {
		if r.State == statePending {
			require.Equal(t, "throttled", r.Reason)
			require.True(t, r.DueAt.After(w.now))
			throttled++
		}
	}
	require.Equal(t, 2, throttled)
	for range 2 {
		w.now = w.now.Add(time.Second)
		w.dispatch(t)
	}
	require.Len(t, w.requests.requests(t), 3, "every row goes out, one a second")
}

func TestGlobalSendRate(t *testing.T) {
	l := newLimits(2)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	require.Zero(t, l.take(now, "s1", 0))
	require.Zero(t, l.take(now, "s2", 0))
	wait := l.take(now, "s3", 0)
	require.Greater(t, wait, time.Duration(0), "the burst of one second is spent")
	require.Zero(t, l.take(now.Add(wait), "s3", 0), "a token after the wait")
	require.Zero(t, newLimits(0).take(now, "s1", 0), "0: no limit")
}

func TestOwnSitesLeavesOtherStacksRowsAlone(t *testing.T) {
	w := newWorld(t)
	w.rt.cfg.OwnSites = true
	w.automation(t, `{"trigger": {"kind": "subscribed"}, "steps": [{"message": `+msg("Hi")+`}]}`, statusEnabled)
	w.subscribe("mine", nil)
	w.trigger(t, w.event("mine", schemas.EventSubscribed, "", nil))
	foreign := controlplane.ScheduledSend{
		ID: uuid.NewString(), SiteID: uuid.NewString(), SubscriberID: "theirs", Source: sourceCampaign,
		CampaignID: uuid.NewString(), Variant: "a", DueAt: w.now.Add(-time.Minute),
	}
	_, err := w.store.InsertScheduled(t.Context(), []controlplane.ScheduledSend{foreign})
	require.NoError(t, err)
	w.dispatch(t)
	require.Len(t, w.requests.requests(t), 1)
	got := w.store.row(t, foreign.ID)
	require.Equal(t, statePending, got.State)
	require.Zero(t, got.Attempts, "not touched")
}

func TestWelcomeUsesTheSubscriptionJustReadBeforeTheSinkStoredIt(t *testing.T) {
	w := newWorld(t)
	w.automation(t, `{"trigger": {"kind": "subscribed"}, "steps": [{"message": `+msg("Welcome")+`}]}`, statusEnabled)
	sub := w.event("new", schemas.EventSubscribed, "", nil)
	sub.Subscription = &schemas.Subscription{Endpoint: "https://push.example/new", P256dh: "p", Auth: "a"}
	w.trigger(t, sub) // ClickHouse (the fake lookup) knows nothing of "new"
	w.dispatch(t)
	reqs := w.requests.requests(t)
	require.Len(t, reqs, 1)
	require.Equal(t, "https://push.example/new", reqs[0].Subscription.Endpoint)

	gone := w.event("gone", schemas.EventSubscribed, "", nil)
	gone.Subscription = &schemas.Subscription{Endpoint: "https://push.example/gone", P256dh: "p", Auth: "a"}
	w.trigger(t, gone)
	w.trigger(t, w.event("gone", schemas.EventUnsubscribed, "", nil))
	w.dispatch(t)
	require.Len(t, w.requests.requests(t), 1, "unsubscribed meanwhile: waits for ClickHouse instead")
}
