package enrich

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestClockTimes(t *testing.T) {
	server := time.Date(2025, 3, 10, 12, 0, 0, 123_456_789, time.UTC)
	ms := func(t time.Time) int64 { return t.UnixMilli() }
	serverMS := server.Truncate(time.Millisecond)
	tests := []struct {
		name       string
		sentAt     time.Time // zero: not sent
		ts         time.Time // zero: not sent
		wantWhen   time.Time
		wantClient time.Time
		problem    string
	}{
		{"no ts: server time", time.Time{}, time.Time{}, serverMS, serverMS, ""},
		{"no ts with sent_at: server time", serverMS.Add(-time.Hour), time.Time{}, serverMS, serverMS, ""},
		{
			"browser 1h behind", serverMS.Add(-time.Hour), serverMS.Add(-time.Hour - 5*time.Second),
			serverMS.Add(-5 * time.Second), serverMS.Add(-time.Hour - 5*time.Second), "",
		},
		{
			"browser 10 min ahead", serverMS.Add(10 * time.Minute), serverMS.Add(10*time.Minute - 30*time.Second),
			serverMS.Add(-30 * time.Second), serverMS.Add(10*time.Minute - 30*time.Second), "",
		},
		{"no sent_at: ts as is", time.Time{}, serverMS.Add(-2 * time.Hour), serverMS.Add(-2 * time.Hour), serverMS.Add(-2 * time.Hour), ""},
		{"30s in the future kept", time.Time{}, serverMS.Add(30 * time.Second), serverMS.Add(30 * time.Second), serverMS.Add(30 * time.Second), ""},
		{"2 min in the future clamped", time.Time{}, serverMS.Add(2 * time.Minute), serverMS, serverMS.Add(2 * time.Minute), ""},
		{"future after correction clamped", serverMS.Add(-time.Hour), serverMS, serverMS, serverMS, ""},
		{"6 days old kept", time.Time{}, serverMS.Add(-6 * 24 * time.Hour), serverMS.Add(-6 * 24 * time.Hour), serverMS.Add(-6 * 24 * time.Hour), ""},
		{"8 days old refused", time.Time{}, serverMS.Add(-8 * 24 * time.Hour), time.Time{}, time.Time{}, "is 8 days in the past after clock-skew correction; events older than 7 days are refused"},
		{
			"old by the browser clock, fresh after correction", serverMS.Add(-30 * 24 * time.Hour), serverMS.Add(-30*24*time.Hour - time.Minute),
			serverMS.Add(-time.Minute), serverMS.Add(-30*24*time.Hour - time.Minute), "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sentAt, ts int64
			if !tt.sentAt.IsZero() {
				sentAt = ms(tt.sentAt)
			}
			if !tt.ts.IsZero() {
				ts = ms(tt.ts)
			}
			c := NewClock(server, sentAt)
			require.Equal(t, serverMS, c.Server())
			when, client, problem := c.Times(ts)
			require.Equal(t, tt.problem, problem)
			require.True(t, tt.wantWhen.Equal(when), "when %s, want %s", when, tt.wantWhen)
			require.True(t, tt.wantClient.Equal(client), "client %s, want %s", client, tt.wantClient)
		})
	}
}

func TestClockSkew(t *testing.T) {
	server := time.UnixMilli(1_720_000_000_000)
	require.Equal(t, 90*time.Second, NewClock(server, 1_720_000_000_000-90_000).Skew())
	require.Equal(t, -time.Second, NewClock(server, 1_720_000_001_000).Skew())
	require.Zero(t, NewClock(server, 0).Skew())
}
