package backtest

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/automation"
	"github.com/pushpipe/pushpipe/segments"
)

// t0 is a Monday, 09:00 UTC.
var t0 = time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func parse(t *testing.T, def string) automation.Automation {
	t.Helper()
	a, probs := automation.ParseAutomation([]byte(def))
	require.Empty(t, probs)
	return a
}

const msg = `{"title":"Hello"}`

var seq int

func ev(sub, typ, name string, when time.Time, props ...string) Event {
	seq++
	p := map[string]string{}
	for i := 0; i+1 < len(props); i += 2 {
		p[props[i]] = props[i+1]
	}
	return Event{SubscriberID: sub, Event: segments.Event{ID: fmt.Sprintf("e%06d", seq), Type: typ, Name: name, Time: when, Props: p}}
}

func transition(sub, typ, segment, reason string, when time.Time) Event {
	e := ev(sub, typ, "", when)
	e.SegmentID, e.Reason = segment, reason
	return e
}

// simulate runs cfg over evs, put in time order (stable), with the range
// of the 2 days from t0's midnight unless cfg sets it, and every subscriber
// of evs subscribed from the start unless cfg says who is.
func simulate(t *testing.T, cfg Config, evs ...Event) Result {
	t.Helper()
	if cfg.Subscribed == nil {
		cfg.Subscribed = map[string]bool{}
		for _, e := range evs {
			cfg.Subscribed[e.SubscriberID] = true
		}
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].Time.Before(evs[j].Time) })
	if cfg.From.IsZero() {
		cfg.From, cfg.To = t0.Truncate(24*time.Hour), t0.Truncate(24*time.Hour).Add(48*time.Hour)
	}
	sim, err := New(cfg)
	require.NoError(t, err)
	for i := range evs {
		require.NoError(t, sim.Feed(&evs[i]))
	}
	return sim.Finish()
}

func TestBacktestEventTriggerWithCooldown(t *testing.T) {
	a := parse(t, `{"trigger":{"kind":"event","event":{"type":"custom","name":"add_to_cart","where":[{"field":"props.sku","op":"eq","value":"A1"}]}},
		"cooldown":"1h","steps":[{"message":`+msg+`}]}`)
	res := simulate(t, Config{Automation: a},
		ev("s1", "custom", "add_to_cart", at(0), "sku", "A1"),              // sends
		ev("s1", "custom", "add_to_cart", at(59*time.Minute), "sku", "A1"), // within the cooldown
		ev("s1", "custom", "add_to_cart", at(61*time.Minute), "sku", "A1"), // 61 min after the entry: sends
		ev("s2", "custom", "add_to_cart", at(0), "sku", "B2"),              // filter does not hold
		ev("s3", "custom", "remove", at(0), "sku", "A1"),                   // another event
		ev("s3", "custom", "add_to_cart", at(26*time.Hour), "sku", "A1"),   // the next day
	)
	require.Equal(t, 3, res.Total.WouldSend)
	require.Equal(t, []Day{{Date: "2025-06-02", WouldSend: 2}, {Date: "2025-06-03", WouldSend: 1}}, res.Days)
}

func TestBacktestQuietHours(t *testing.T) {
	a := parse(t, `{"trigger":{"kind":"subscribed"},"steps":[{"message":`+msg+`}]}`)
	quiet := automation.Policy{QuietStart: 22 * 60, QuietEnd: 8 * 60, QuietMode: automation.QuietHold, DefaultTimezone: "UTC"}
	paris := ev("s2", "subscribed", "", at(14*time.Hour)) // 23:00 UTC, 01:00 in Paris: quiet
	paris.Timezone = "Europe/Paris"
	evs := []Event{
		ev("s1", "subscribed", "", at(4*time.Hour)), // 13:00: sends
		paris,
		ev("s3", "subscribed", "", at(13*time.Hour+30*time.Minute)), // 22:30 UTC: quiet
	}
	res := simulate(t, Config{Automation: a, Policy: quiet}, evs...)
	require.Equal(t, []Day{
		{Date: "2025-06-02", WouldSend: 1, HeldByPolicy: 2},
		{Date: "2025-06-03", WouldSend: 2}, // both at 08:00 local
	}, res.Days)

	quiet.QuietMode = automation.QuietDrop
	res = simulate(t, Config{Automation: a, Policy: quiet}, evs...)
	require.Equal(t, Day{WouldSend: 1, DroppedByPolicy: 2}, res.Total)
}

func TestBacktestFrequencyCap(t *testing.T) {
	a := parse(t, `{"trigger":{"kind":"event","event":{"type":"page_view"}},"steps":[{"message":`+msg+`}]}`)
	capped := automation.Policy{CapCount: 2, CapWindow: 10 * time.Hour}
	res := simulate(t, Config{Automation: a, Policy: capped},
		ev("s1", "page_view", "", at(0)),
		ev("s1", "page_view", "", at(time.Hour)),
		ev("s1", "page_view", "", at(2*time.Hour)), // third in 10 h: held until the first leaves the window (at 10 h)
		ev("s2", "page_view", "", at(2*time.Hour)), // another subscriber has their own count
	)
	require.Equal(t, Day{WouldSend: 4, HeldByPolicy: 1}, res.Total, "the held push goes out at 10 h")

	// With the 24 h lifetime passed before the window frees up, the push is dropped.
	capped.CapWindow = 30 * time.Hour
	res = simulate(t, Config{Automation: a, Policy: capped},
		ev("s1", "page_view", "", at(0)),
		ev("s1", "page_view", "", at(time.Hour)),
		ev("s1", "page_view", "", at(2*time.Hour)),
	)
	require.Equal(t, Day{WouldSend: 2, DroppedByPolicy: 1}, res.Total)
}

const cartAbandonment = `{"trigger":{"kind":"absence","event":{"type":"custom","name":"add_to_cart"},
	"then_not":{"type":"conversion","name":"purchase"},"within":"1h","correlate":"cart_id"},
	"steps":[{"message":` + msg + `},{"delay":"1d","message":` + msg + `,"unless_event":{"type":"conversion","name":"purchase"}}]}`

func TestBacktestAbsence(t *testing.T) {
	a := parse(t, cartAbandonment)
	res := simulate(t, Config{Automation: a},
		// s1 buys cart c1 in time: nothing.
		ev("s1", "custom", "add_to_cart", at(0), "cart_id", "c1"),
		ev("s1", "conversion", "purchase", at(59*time.Minute), "cart_id", "c1"),
		// s2 buys another cart: c2 is still abandoned, and step 2 is never scheduled (a purchase since the trigger).
		ev("s2", "custom", "add_to_cart", at(0), "cart_id", "c2"),
		ev("s2", "conversion", "purchase", at(30*time.Minute), "cart_id", "other"),
		// s3 buys 1 minute after the window: step 1 went out, the purchase cancels step 2.
		ev("s3", "custom", "add_to_cart", at(0), "cart_id", "c3"),
		ev("s3", "conversion", "purchase", at(61*time.Minute), "cart_id", "c3"),
		// s4 never buys: both steps.
		ev("s4", "custom", "add_to_cart", at(0), "cart_id", "c4"),
		// s5 buys exactly at the end of the window: cancelled.
		ev("s5", "custom", "add_to_cart", at(0), "cart_id", "c5"),
		ev("s5", "conversion", "purchase", at(time.Hour), "cart_id", "c5"),
	)
	require.Equal(t, []Day{
		{Date: "2025-06-02", WouldSend: 3}, // s2, s3, s4 at 10:00
		{Date: "2025-06-03", WouldSend: 1}, // s4; s2 and s3 bought
	}, res.Days)
}

func TestBacktestSegmentTriggers(t *testing.T) {
	a := parse(t, `{"trigger":{"kind":"segment_entered","segment":"vip"},
		"steps":[{"message":`+msg+`},{"delay":"2h","message":`+msg+`,"still_in_segment":"vip"}]}`)
	res := simulate(t, Config{Automation: a},
		transition("s1", "segment_entered", "vip", "event", at(0)), // stays: two pushes
		transition("s2", "segment_entered", "vip", "event", at(0)), // leaves before step 2
		transition("s2", "segment_exited", "vip", "timer", at(time.Hour)),
		transition("s3", "segment_entered", "vip", "backfill", at(0)), // a backfill never triggers
		transition("s4", "segment_entered", "other", "event", at(0)),  // another segment
	)
	require.Equal(t, Day{WouldSend: 3, Skipped: 1}, res.Total)
}

func TestBacktestHoldoutAndWarmUp(t *testing.T) {
	a := parse(t, `{"trigger":{"kind":"subscribed"},"holdout_pct":50,"steps":[{"delay":"1d","message":`+msg+`}]}`)
	var evs []Event
	held := 0
	for i := range 200 {
		sub := fmt.Sprintf("s%03d", i)
		evs = append(evs, ev(sub, "subscribed", "", at(-24*time.Hour))) // the day before the range: due in it
		if automation.InHoldout("auto-1", sub, 50) {
			held++
		}
	}
	require.Greater(t, held, 50)
	require.Less(t, held, 150)
	res := simulate(t, Config{AutomationID: "auto-1", Automation: a}, evs...)
	require.Equal(t, Day{WouldSend: 200 - held, HeldOut: held}, res.Total)
}

func TestBacktestRefusesEventsOutOfOrder(t *testing.T) {
	sim, err := New(Config{Automation: parse(t, `{"trigger":{"kind":"subscribed"},"steps":[{"message":`+msg+`}]}`), From: t0, To: at(time.Hour)})
	require.NoError(t, err)
	e1, e2 := ev("s1", "page_view", "", at(time.Minute)), ev("s1", "page_view", "", at(0))
	require.NoError(t, sim.Feed(&e1))
	require.Error(t, sim.Feed(&e2))
}

func TestBacktestNextStepFollowsTheSentOne(t *testing.T) {
	a := parse(t, `{"trigger":{"kind":"subscribed"},"steps":[{"message":`+msg+`},{"delay":"1h","message":`+msg+`}]}`)
	quiet := automation.Policy{QuietStart: 22 * 60, QuietEnd: 8 * 60, QuietMode: automation.QuietHold}
	res := simulate(t, Config{Automation: a, Policy: quiet}, ev("s1", "subscribed", "", at(14*time.Hour))) // 23:00
	// Step 1 is held to 08:00; step 2 is due an hour after that, not an hour after the trigger (also quiet).
	require.Equal(t, []Day{{Date: "2025-06-02", HeldByPolicy: 1}, {Date: "2025-06-03", WouldSend: 2}}, res.Days)

	held := parse(t, `{"trigger":{"kind":"subscribed"},"holdout_pct":50,"steps":[{"message":`+msg+`},{"delay":"1h","message":`+msg+`}]}`)
	var sub string
	for i := 0; sub == ""; i++ {
		if id := fmt.Sprintf("s%d", i); automation.InHoldout("auto-1", id, 50) {
			sub = id
		}
	}
	res = simulate(t, Config{AutomationID: "auto-1", Automation: held}, ev(sub, "subscribed", "", at(0)))
	require.Equal(t, Day{HeldOut: 1}, res.Total, "a holdout member's series ends at its first step")
}

func TestBacktestSendsOnlyToSubscriptions(t *testing.T) {
	a := parse(t, `{"trigger":{"kind":"event","event":{"type":"page_view"}},"steps":[{"message":`+msg+`},{"delay":"2h","message":`+msg+`}]}`)
	res := simulate(t, Config{Automation: a, Subscribed: map[string]bool{"s1": true, "s2": true}},
		ev("s1", "page_view", "", at(0)), // subscribed: both steps
		ev("s2", "page_view", "", at(0)), // unsubscribes before step 2
		ev("s2", "unsubscribed", "", at(time.Hour)),
		ev("v3", "page_view", "", at(0)),          // a visitor who never subscribed
		ev("v4", "subscribed", "", at(time.Hour)), // subscribes after the trigger: step 1 due at once is skipped
		ev("v4", "page_view", "", at(0)),
		ev("s5", "subscription_expired", "", at(-time.Hour)), // expired before: nothing
		ev("s5", "page_view", "", at(0)),
	)
	require.Equal(t, Day{WouldSend: 3, Skipped: 4}, res.Total)
}
