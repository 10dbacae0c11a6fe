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
)

// campaign stores a scheduled campaign of the world's site.
func (w *world) campaign(t *testing.T, def string) controlplane.Campaign {
	t.Helper()
	_, problems := automation.ParseCampaign([]byte(def))
	require.Empty(t, problems)
	c := controlplane.Campaign{ID: uuid.NewString(), SiteID: w.site, Definition: json.RawMessage(def), Status: controlplane.CampaignScheduled}
	w.store.campaigns[c.ID] = c
	return c
}

func TestFanOutCreatesOneThrottledRowPerMember(t *testing.T) {
	w := newWorld(t)
	w.rt.cfg.Page = 2 // three pages
	for i := range 5 {
		id := fmt.Sprintf("m%d", i)
		w.lookup.members = append(w.lookup.members, Member{ID: id})
		w.subscribe(id, nil)
	}
	c := w.campaign(t, `{"include": ["vip"], "throttle_per_minute": 120,
		"variants": [{"name": "a", "weight": 1, "message": `+msg("A")+`}, {"name": "b", "weight": 1, "message": `+msg("B")+`}]}`)
	def, _ := automation.ParseCampaign(c.Definition)

	total, err := w.rt.fanOut(t.Context(), c)
	require.NoError(t, err)
	require.Equal(t, 5, total)
	require.Equal(t, controlplane.CampaignSending, w.store.campaigns[c.ID].Status)
	require.Equal(t, 5, w.store.campaigns[c.ID].Total)
	rows := w.store.all()
	require.Len(t, rows, 5)
	for i, r := range rows {
		require.Equal(t, fmt.Sprintf("m%d", i), r.SubscriberID)
		require.Equal(t, w.now.Add(time.Duration(i)*500*time.Millisecond), r.DueAt, "120 a minute: one every 500ms")
		variant := def.Variants[automation.PickVariant(c.ID, r.SubscriberID, def.Variants)].Name
		require.Equal(t, variant, r.Variant)
		require.Equal(t, automation.CampaignRequestID(c.ID, variant, r.SubscriberID), r.ID)
		require.Equal(t, sourceCampaign, r.Source)
	}

	again, err := w.rt.fanOut(t.Context(), c) // a fan-out redone after a restart adds nothing
	require.NoError(t, err)
	require.Equal(t, 5, again)
	require.Len(t, w.store.all(), 5)

	w.now = w.now.Add(2 * time.Second)
	w.dispatch(t)
	reqs := w.requests.requests(t)
	require.Len(t, reqs, 5, "each member exactly once")
	for _, r := range reqs {
		require.Equal(t, c.ID, r.CampaignID)
		require.NotEmpty(t, r.Variant)
	}
	done, err := w.rt.sent(t.Context(), w.site, c.ID)
	require.NoError(t, err)
	require.True(t, done)
	require.Equal(t, controlplane.CampaignDone, w.store.campaigns[c.ID].Status)
}

func TestFanOutStopsWhenCancelled(t *testing.T) {
	w := newWorld(t)
	w.rt.cfg.Page = 1
	w.lookup.members = []Member{{ID: "a"}, {ID: "b"}}
	c := w.campaign(t, `{"include": ["vip"], "variants": [{"name": "a", "message": `+msg("A")+`}]}`)
	c2 := c
	c2.Status = controlplane.CampaignCancelled
	w.store.campaigns[c.ID] = c2
	_, err := w.rt.fanOut(t.Context(), c)
	require.ErrorIs(t, err, errCancelled)
	require.Len(t, w.store.all(), 1, "the first page only")
}

func TestLocalTimeScheduleUsesEachSubscribersTimezone(t *testing.T) {
	// 2026-03-02 10:00 UTC: 11:00 in Paris, 05:00 in New York, 19:00 in Tokyo.
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	def := automation.Campaign{Schedule: automation.Schedule{LocalTime: "09:00"}}
	p := newFanPlan("c", def, now, "Europe/Paris")
	tests := []struct {
		tz   string
		want time.Time
	}{
		{"America/New_York", time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)}, // 09:00 EST today, still ahead
		{"Europe/Paris", time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)},      // passed today: tomorrow 09:00 CET
		{"Asia/Tokyo", time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)},        // Tokyo is on March 2nd 19:00: tomorrow 09:00 JST
		{"", time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)},                  // unknown: the site's default
		{"Not/AZone", time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)},         // invalid: the site's default
	}
	for _, tt := range tests {
		t.Run(tt.tz, func(t *testing.T) {
			require.Equal(t, tt.want, p.due(Member{ID: "m", Timezone: tt.tz}, 0))
		})
	}
	at := time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)
	p = newFanPlan("c", automation.Campaign{Schedule: automation.Schedule{At: at, LocalTime: "09:00"}, ThrottlePerMinute: 60}, now, "UTC")
	require.Equal(t, time.Date(2026, 3, 5, 9, 0, 3, 0, time.UTC), p.due(Member{ID: "m"}, 3), "At's date, plus the throttle's spacing")
}
