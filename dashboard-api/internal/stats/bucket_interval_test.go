package stats

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

func TestIntervalStart(t *testing.T) {
	ny, kolkata := mustZone(t, "America/New_York"), mustZone(t, "Asia/Kolkata")
	// 2024-03-10 07:45:30Z is Sunday 03:45 EDT (just after the spring-forward
	// gap) and 13:15 IST.
	at := time.Date(2024, 3, 10, 7, 45, 30, 0, time.UTC)
	tests := []struct {
		iv   Interval
		loc  *time.Location
		want string
	}{
		{Hour, time.UTC, "2024-03-10T07:00:00Z"},
		{Day, time.UTC, "2024-03-10T00:00:00Z"},
		{Week, time.UTC, "2024-03-04T00:00:00Z"},
		{Month, time.UTC, "2024-03-01T00:00:00Z"},
		{Hour, ny, "2024-03-10T03:00:00-04:00"},
		{Day, ny, "2024-03-10T00:00:00-05:00"},
		{Week, ny, "2024-03-04T00:00:00-05:00"},
		{Month, ny, "2024-03-01T00:00:00-05:00"},
		{Hour, kolkata, "2024-03-10T13:00:00+05:30"},
		{Day, kolkata, "2024-03-10T00:00:00+05:30"},
	}
	for _, tt := range tests {
		t.Run(string(tt.iv)+" "+tt.loc.String(), func(t *testing.T) {
			require.Equal(t, tt.want, tt.iv.Start(at, tt.loc).Format(time.RFC3339))
		})
	}
}

// TestHourStartCountsFromLocalMidnight: Lord Howe Island goes back half an
// hour (+11 to +10:30) at 02:00; ClickHouse counts whole hours from the local
// midnight, so 02:41 (the second time round) is in the bucket starting 02:30.
func TestHourStartCountsFromLocalMidnight(t *testing.T) {
	lh := mustZone(t, "Australia/Lord_Howe")
	at := time.Date(2024, 4, 6, 16, 11, 0, 0, time.UTC)
	require.Equal(t, "2024-04-07T02:30:00+10:30", Hour.Start(at, lh).Format(time.RFC3339))
}

func TestIntervalStartOnMondayIsThatMonday(t *testing.T) {
	monday := time.Date(2025, 5, 19, 0, 0, 0, 0, time.UTC)
	require.Equal(t, monday, Week.Start(monday, time.UTC))
	require.Equal(t, monday, Week.Start(monday.Add(time.Nanosecond), time.UTC))
	require.Equal(t, monday, Week.Start(monday.Add(6*24*time.Hour+23*time.Hour), time.UTC))
}

func TestBuckets(t *testing.T) {
	ny := mustZone(t, "America/New_York")
	tests := []struct {
		name     string
		from, to time.Time
		iv       Interval
		loc      *time.Location
		want     int
		first    string
	}{
		{"aligned days", time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 5, 8, 0, 0, 0, 0, time.UTC), Day, time.UTC, 7, "2025-05-01T00:00:00Z"},
		{"unaligned days", time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC), time.Date(2025, 5, 8, 12, 0, 0, 0, time.UTC), Day, time.UTC, 8, "2025-05-01T00:00:00Z"},
		{"day with 23 hours", time.Date(2024, 3, 10, 5, 0, 0, 0, time.UTC), time.Date(2024, 3, 11, 4, 0, 0, 0, time.UTC), Hour, ny, 23, "2024-03-10T00:00:00-05:00"},
		{"day with 25 hours", time.Date(2024, 11, 3, 4, 0, 0, 0, time.UTC), time.Date(2024, 11, 4, 5, 0, 0, 0, time.UTC), Hour, ny, 25, "2024-11-03T00:00:00-04:00"},
		{"days across DST", time.Date(2024, 3, 9, 5, 0, 0, 0, time.UTC), time.Date(2024, 3, 12, 4, 0, 0, 0, time.UTC), Day, ny, 3, "2024-03-09T00:00:00-05:00"},
		{"weeks", time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 5, 31, 0, 0, 0, 0, time.UTC), Week, time.UTC, 5, "2025-04-28T00:00:00Z"},
		{"months", time.Date(2024, 1, 31, 0, 0, 0, 0, time.UTC), time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC), Month, time.UTC, 3, "2024-01-01T00:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Buckets(tt.from, tt.to, tt.iv, tt.loc, 1000)
			require.True(t, ok)
			require.Len(t, got, tt.want)
			require.Equal(t, tt.first, got[0].Format(time.RFC3339))
			for i := 1; i < len(got); i++ {
				require.True(t, got[i-1].Before(got[i]))
				require.Equal(t, got[i], tt.iv.Start(got[i], tt.loc), "every bucket start is its own start")
			}
		})
	}
}

func TestBucketsLimit(t *testing.T) {
	from := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	got, ok := Buckets(from, from.Add(1000*time.Hour), Hour, time.UTC, 1000)
	require.True(t, ok)
	require.Len(t, got, 1000)
	got, ok = Buckets(from, from.Add(100000*time.Hour), Hour, time.UTC, 1000)
	require.False(t, ok)
	require.Len(t, got, 1001, "counting stops just past the limit")
}

func TestParseInterval(t *testing.T) {
	for _, iv := range Intervals() {
		got, ok := ParseInterval(string(iv))
		require.True(t, ok)
		require.Equal(t, iv, got)
	}
	for _, bad := range []string{"", "Day", "minute", "1 day"} {
		_, ok := ParseInterval(bad)
		require.False(t, ok, bad)
	}
}

func TestAssembleZeroFills(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2025, 5, d, 0, 0, 0, 0, time.UTC) }
	q := OverviewQuery{Location: time.UTC, Buckets: []time.Time{day(1), day(2), day(3)}}
	ov := assemble(q, []typeCount{
		{day(1), "page_view", 4, 0},
		{day(3), "page_view", 1, 0},
		{day(3), "subscribed", 2, 0},
		{day(4), "page_view", 7, 0}, // a bucket the list lacks is kept, in order
	})
	require.Equal(t, map[string]uint64{"page_view": 12, "subscribed": 2}, ov.Totals)
	require.Len(t, ov.Series, 4)
	require.Equal(t, map[string]uint64{"page_view": 4, "subscribed": 0}, ov.Series[0].Counts)
	require.Equal(t, map[string]uint64{"page_view": 0, "subscribed": 0}, ov.Series[1].Counts)
	require.Equal(t, map[string]uint64{"page_view": 1, "subscribed": 2}, ov.Series[2].Counts)
	require.Equal(t, day(4), ov.Series[3].Start)
}
