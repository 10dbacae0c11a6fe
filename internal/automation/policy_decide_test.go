package automation

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

func TestDecideNotAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	p := Policy{}
	require.Equal(t, Decision{Send: true}, p.Decide(now, "", nil, time.Time{}), "no limit")
	require.Equal(t, Decision{Send: true}, p.Decide(now, "", nil, now), "exactly at not-after still sends")
	require.Equal(t, Decision{Drop: DropExpired}, p.Decide(now, "", nil, now.Add(-time.Nanosecond)))
}

func TestDecideQuietHours(t *testing.T) {
	paris := mustLoc(t, "Europe/Paris")
	at := func(loc *time.Location, d, h, m int) time.Time { return time.Date(2026, 1, d, h, m, 0, 0, loc) }
	overnight := Policy{QuietStart: 22 * 60, QuietEnd: 8 * 60, QuietMode: QuietHold, DefaultTimezone: "UTC"}
	daytime := Policy{QuietStart: 12 * 60, QuietEnd: 14 * 60, QuietMode: QuietHold, DefaultTimezone: "UTC"}
	tests := []struct {
		name string
		p    Policy
		now  time.Time
		tz   string
		want Decision
	}{
		{"before an overnight window", overnight, at(paris, 10, 21, 59), "Europe/Paris", Decision{Send: true}},
		{"start of an overnight window", overnight, at(paris, 10, 22, 0), "Europe/Paris", Decision{HoldUntil: at(paris, 11, 8, 0)}},
		{"just before midnight", overnight, at(paris, 10, 23, 59), "Europe/Paris", Decision{HoldUntil: at(paris, 11, 8, 0)}},
		{"just after midnight", overnight, at(paris, 11, 0, 1), "Europe/Paris", Decision{HoldUntil: at(paris, 11, 8, 0)}},
		{"end of an overnight window", overnight, at(paris, 11, 8, 0), "Europe/Paris", Decision{Send: true}},
		{"in a daytime window", daytime, at(paris, 10, 13, 0), "Europe/Paris", Decision{HoldUntil: at(paris, 10, 14, 0)}},
		{"after a daytime window", daytime, at(paris, 10, 14, 0), "Europe/Paris", Decision{Send: true}},
		{"local time, not UTC: 23:00 in Paris is 22:00 UTC", overnight, at(time.UTC, 10, 21, 30), "Europe/Paris", Decision{HoldUntil: at(paris, 11, 8, 0)}},
		{"no timezone: the default", overnight, at(time.UTC, 10, 21, 30), "", Decision{Send: true}},
		{"unknown timezone: the default", overnight, at(time.UTC, 10, 23, 0), "Mars/Olympus", Decision{HoldUntil: at(time.UTC, 11, 8, 0)}},
		{"equal bounds: no quiet hours", Policy{QuietStart: 600, QuietEnd: 600}, at(time.UTC, 10, 10, 0), "", Decision{Send: true}},
		{"drop mode", Policy{QuietStart: 22 * 60, QuietEnd: 8 * 60, QuietMode: QuietDrop}, at(time.UTC, 10, 23, 0), "", Decision{Drop: DropQuietHours}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.p.Decide(tt.now, tt.tz, nil, time.Time{})
			require.Equal(t, tt.want.Send, got.Send)
			require.Equal(t, tt.want.Drop, got.Drop)
			require.True(t, tt.want.HoldUntil.Equal(got.HoldUntil), "hold until %v, want %v", got.HoldUntil, tt.want.HoldUntil)
		})
	}
}

func TestDecideQuietHoursHoldPastNotAfterDrops(t *testing.T) {
	p := Policy{QuietStart: 22 * 60, QuietEnd: 8 * 60, QuietMode: QuietHold}
	now := time.Date(2026, 1, 10, 23, 0, 0, 0, time.UTC)
	require.Equal(t, Decision{Drop: DropQuietHours}, p.Decide(now, "", nil, now.Add(time.Hour)))
	require.Equal(t, Decision{HoldUntil: time.Date(2026, 1, 11, 8, 0, 0, 0, time.UTC)}, p.Decide(now, "", nil, now.Add(9*time.Hour)))
}

// Across daylight-saving changes the window ends at the local wall-clock
// time, so the hold is 23 or 25 real hours from the same local time.
func TestDecideQuietHoursAcrossDST(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	p := Policy{QuietStart: 22 * 60, QuietEnd: 8 * 60, QuietMode: QuietHold}
	// 2026-03-08: clocks go from 02:00 EST to 03:00 EDT.
	spring := p.Decide(time.Date(2026, 3, 7, 23, 0, 0, 0, ny), "America/New_York", nil, time.Time{})
	require.True(t, spring.HoldUntil.Equal(time.Date(2026, 3, 8, 8, 0, 0, 0, ny)))
	require.Equal(t, 8*time.Hour, spring.HoldUntil.Sub(time.Date(2026, 3, 7, 23, 0, 0, 0, ny)), "one hour shorter than the 9 on the clock")
	// 2026-11-01: clocks go from 02:00 EDT back to 01:00 EST.
	autumn := p.Decide(time.Date(2026, 10, 31, 23, 0, 0, 0, ny), "America/New_York", nil, time.Time{})
	require.True(t, autumn.HoldUntil.Equal(time.Date(2026, 11, 1, 8, 0, 0, 0, ny)))
	require.Equal(t, 10*time.Hour, autumn.HoldUntil.Sub(time.Date(2026, 10, 31, 23, 0, 0, 0, ny)))

	// A window ending inside the skipped hour ends once the clock has jumped.
	gap := Policy{QuietStart: 1 * 60, QuietEnd: 2*60 + 30, QuietMode: QuietHold}
	now := time.Date(2026, 3, 8, 1, 30, 0, 0, ny)
	d := gap.Decide(now, "America/New_York", nil, time.Time{})
	require.False(t, d.HoldUntil.IsZero())
	require.True(t, d.HoldUntil.After(now))
	require.LessOrEqual(t, d.HoldUntil.Sub(now), 2*time.Hour)
	local := d.HoldUntil.In(ny)
	require.Equal(t, Decision{Send: true}, gap.Decide(d.HoldUntil, "America/New_York", nil, time.Time{}), "sendable at %v", local)
}

func TestDecideFrequencyCap(t *testing.T) {
	now := time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	p := Policy{CapCount: 2, CapWindow: 24 * time.Hour}
	tests := []struct {
		name     string
		p        Policy
		sends    []time.Time
		notAfter time.Time
		want     Decision
	}{
		{"under the cap", p, []time.Time{ago(time.Hour)}, time.Time{}, Decision{Send: true}},
		{
			"at the cap: wait for the oldest to leave", p,
			[]time.Time{ago(time.Hour), ago(3 * time.Hour)},
			time.Time{},
			Decision{HoldUntil: ago(3 * time.Hour).Add(24 * time.Hour)},
		},
		{
			"order does not matter", p,
			[]time.Time{ago(3 * time.Hour), ago(time.Hour)},
			time.Time{},
			Decision{HoldUntil: ago(3 * time.Hour).Add(24 * time.Hour)},
		},
		{
			"over the cap: enough must leave", p,
			[]time.Time{ago(time.Hour), ago(2 * time.Hour), ago(3 * time.Hour)},
			time.Time{},
			Decision{HoldUntil: ago(2 * time.Hour).Add(24 * time.Hour)},
		},
		{"a send exactly one window ago no longer counts", p, []time.Time{ago(time.Hour), ago(24 * time.Hour)}, time.Time{}, Decision{Send: true}},
		{
			"a send just inside the window counts", p,
			[]time.Time{ago(time.Hour), ago(24*time.Hour - time.Second)},
			time.Time{},
			Decision{HoldUntil: now.Add(time.Second)},
		},
		{"a send at now counts", p, []time.Time{now, ago(time.Hour)}, time.Time{}, Decision{HoldUntil: ago(time.Hour).Add(24 * time.Hour)}},
		{"future sends do not count", p, []time.Time{now.Add(time.Minute), ago(time.Hour)}, time.Time{}, Decision{Send: true}},
		{"release after not-after: drop", p, []time.Time{ago(time.Hour), ago(3 * time.Hour)}, now.Add(time.Hour), Decision{Drop: DropFrequencyCap}},
		{
			"release exactly at not-after: hold", p,
			[]time.Time{ago(time.Hour), ago(3 * time.Hour)},
			now.Add(21 * time.Hour),
			Decision{HoldUntil: now.Add(21 * time.Hour)},
		},
		{"no cap", Policy{CapWindow: time.Hour}, []time.Time{ago(time.Minute), ago(time.Minute)}, time.Time{}, Decision{Send: true}},
		{
			"cap of one",
			Policy{CapCount: 1, CapWindow: time.Hour},
			[]time.Time{ago(time.Minute)},
			time.Time{},
			Decision{HoldUntil: now.Add(59 * time.Minute)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.p.Decide(now, "", tt.sends, tt.notAfter)
			require.Equal(t, tt.want.Send, got.Send)
			require.Equal(t, tt.want.Drop, got.Drop)
			require.True(t, tt.want.HoldUntil.Equal(got.HoldUntil), "hold until %v, want %v", got.HoldUntil, tt.want.HoldUntil)
		})
	}
}

// When the cap releases a push into quiet hours, it waits for both.
func TestDecideCapThenQuietHours(t *testing.T) {
	p := Policy{CapCount: 1, CapWindow: 2 * time.Hour, QuietStart: 22 * 60, QuietEnd: 7 * 60, QuietMode: QuietHold}
	now := time.Date(2026, 1, 10, 21, 0, 0, 0, time.UTC)
	got := p.Decide(now, "UTC", []time.Time{now.Add(-time.Hour)}, time.Time{})
	require.Equal(t, Decision{HoldUntil: time.Date(2026, 1, 11, 7, 0, 0, 0, time.UTC)}, got)
	require.Equal(t, Decision{Send: true}, p.Decide(got.HoldUntil, "UTC", []time.Time{now.Add(-time.Hour)}, time.Time{}))
}

func BenchmarkDecide(b *testing.B) {
	p := Policy{CapCount: 3, CapWindow: 24 * time.Hour, QuietStart: 22 * 60, QuietEnd: 8 * 60, QuietMode: QuietHold}
	now := time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)
	sends := []time.Time{now.Add(-time.Hour), now.Add(-2 * time.Hour)}
	for b.Loop() {
		p.Decide(now, "Europe/Paris", sends, time.Time{})
	}
}

func TestLoadLocationCached(t *testing.T) {
	a, err := LoadLocation("Europe/Paris")
	require.NoError(t, err)
	b, err := LoadLocation("Europe/Paris")
	require.NoError(t, err)
	require.Same(t, a, b, "loaded once")
	_, err = LoadLocation("Not/AZone")
	require.Error(t, err)
}
