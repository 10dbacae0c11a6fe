package main

import (
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/automation"
)

// Every definition the scenarios send is one the model accepts as it is:
// a refusal by the API would fail the run for the wrong reason.
func TestE2EDefinitionsAreValid(t *testing.T) {
	for _, s := range e2eScenarios(e2eFlags{welcome: 1, welcomeRate: 1, members: 30, throttle: 60, holdout: 20}) {
		d, ok := s.(interface{ def() any })
		if !ok {
			continue
		}
		t.Run(s.name(), func(t *testing.T) {
			if c, ok := s.(*e2eCampaign); ok {
				c.segmentID = "0192f0c5-7d0e-7000-8000-000000000001"
			}
			raw, err := json.Marshal(d.def())
			require.NoError(t, err)
			if _, ok := s.(*e2eCampaign); ok {
				_, probs := automation.ParseCampaign(raw)
				require.Empty(t, probs, "%s", raw)
				return
			}
			_, probs := automation.ParseAutomation(raw)
			require.Empty(t, probs, "%s", raw)
		})
	}
}

// The cart definition is the absence rule of the issue: add_to_cart, then
// no purchase with the same cart_id within a minute.
func TestE2ECartDefinition(t *testing.T) {
	raw, err := json.Marshal((&e2eCart{}).def())
	require.NoError(t, err)
	a, probs := automation.ParseAutomation(raw)
	require.Empty(t, probs)
	require.Equal(t, automation.TriggerAbsence, a.Trigger.Kind)
	require.Equal(t, "add_to_cart", a.Trigger.Event.Name)
	require.Equal(t, "purchase", a.Trigger.ThenNot.Name)
	require.Equal(t, "cart_id", a.Trigger.Correlate)
	require.Equal(t, e2eCartWindow, a.Trigger.Within.D())
}

// Whatever the time of day, the quiet-hours scenario finds a timezone
// whose quiet window covers its local time now (without crossing
// midnight) and not the time in UTC, the site's default.
func TestE2EQuietZone(t *testing.T) {
	day := time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC) // a DST change in Europe
	for m := 0; m < 24*60; m += 7 {
		now := day.Add(time.Duration(m) * time.Minute)
		zone, start, end, err := e2eQuietZone(now)
		require.NoError(t, err, now)
		loc, err := time.LoadLocation(zone)
		require.NoError(t, err)
		local := minuteOfDay(now.In(loc))
		require.True(t, start >= 0 && end < 24*60 && start < end, "%s: window %d-%d", now, start, end)
		require.True(t, local > start && local < end, "%s in %s: %d outside %d-%d", now, zone, local, start, end)
		utc := minuteOfDay(now)
		require.False(t, utc >= start && utc <= end, "%s: UTC %d inside %d-%d", now, utc, start, end)
	}
}

func TestParseE2EFlags(t *testing.T) {
	f, err := parseE2EFlags([]string{"--only", "welcome, holdout"}, io.Discard)
	require.NoError(t, err)
	require.Equal(t, []string{"welcome", "holdout"}, f.only)
	require.Len(t, e2eScenarios(f), 2)

	_, err = parseE2EFlags([]string{"--only", "nope", "--welcome", "0"}, io.Discard)
	require.ErrorContains(t, err, `no scenario "nope"`)
	require.ErrorContains(t, err, "--welcome")

	f, err = parseE2EFlags(nil, io.Discard)
	require.NoError(t, err)
	require.Len(t, e2eScenarios(f), 7)
}

func TestE2ETally(t *testing.T) {
	var tally e2eTally
	require.NoError(t, tally.err())
	tally.n = 3
	tally.add("without a push", "a")
	tally.add("without a push", "b")
	tally.add("with a wrong title", "c")
	require.EqualError(t, tally.err(), "2 of 3 without a push (first: a); 1 of 3 with a wrong title (first: c)")
}

// A push stopped by the delivery policy is either held (pending) until the
// policy lets it go, or dropped with the policy's reason; anything else
// means something other than the policy stopped it.
func TestHeldUntil(t *testing.T) {
	until := time.Date(2026, 11, 29, 7, 0, 0, 0, time.UTC)
	sent := e2eRow{State: "sent", DueAt: until.Add(-time.Hour)}
	tests := []struct {
		name string
		rows []e2eRow
		want string // description, or "error: ..." substring
	}{
		{"held", []e2eRow{sent, {State: "pending", Reason: "policy_hold", DueAt: until}}, "held until 07:00:00 UTC"},
		{"dropped", []e2eRow{sent, {State: "skipped", Reason: "frequency_cap"}}, "dropped (frequency_cap)"},
		{"held too briefly", []e2eRow{sent, {State: "pending", DueAt: until.Add(-10 * time.Minute)}}, "error: want held until 07:00:00"},
		{"skipped otherwise", []e2eRow{sent, {State: "skipped", Reason: "no_subscription"}}, `error: the push is skipped (reason "no_subscription"`},
		{"never scheduled", []e2eRow{sent}, "error: 0 scheduled pushes besides the sent ones"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := heldUntil(tt.rows, until, "frequency_cap")
			if want, ok := strings.CutPrefix(tt.want, "error: "); ok {
				require.ErrorContains(t, err, want)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}
