package api

import (
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/dashboard-api/internal/stats"
)

func TestParseOverviewDefaults(t *testing.T) {
	q, probs := parseOverview(url.Values{}, siteA, fixedNow)
	require.Empty(t, probs)
	require.Equal(t, siteA, q.SiteID)
	require.Equal(t, fixedNow, q.To)
	require.Equal(t, fixedNow.Add(-7*24*time.Hour), q.From)
	require.Equal(t, stats.Day, q.Interval)
	require.Equal(t, time.UTC, q.Location)
	require.Len(t, q.Buckets, 8, "seven days not starting at midnight touch eight days")
	require.Equal(t, time.Date(2025, 5, 13, 0, 0, 0, 0, time.UTC), q.Buckets[0])
}

func TestParseOverviewAccepts(t *testing.T) {
	tests := []struct {
		name        string
		query       string
		wantFrom    time.Time
		wantTo      time.Time
		wantBuckets int
		wantZone    string
	}{
		{"only from", "from=2025-05-19T00:00:00Z", time.Date(2025, 5, 19, 0, 0, 0, 0, time.UTC), fixedNow, 2, "UTC"},
		{"only to", "to=2025-05-10T00:00:00Z", time.Date(2025, 5, 3, 0, 0, 0, 0, time.UTC), time.Date(2025, 5, 10, 0, 0, 0, 0, time.UTC), 7, "UTC"},
		{
			"offset times and a zone", "from=2025-05-01T00:00:00%2B02:00&to=2025-05-03T00:00:00%2B02:00&tz=Europe/Berlin",
			time.Date(2025, 4, 30, 22, 0, 0, 0, time.UTC), time.Date(2025, 5, 2, 22, 0, 0, 0, time.UTC), 2, "Europe/Berlin",
		},
		{"hours, exactly the limit", "from=2025-01-01T00:00:00Z&to=2025-02-11T16:00:00Z&interval=hour", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 2, 11, 16, 0, 0, 0, time.UTC), 1000, "UTC"},
		{"months over years", "from=2020-01-15T00:00:00Z&to=2025-01-01T00:00:00Z&interval=month", time.Date(2020, 1, 15, 0, 0, 0, 0, time.UTC), time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), 60, "UTC"},
		{"sub-millisecond digits are dropped", "from=2025-05-19T00:00:00.123456Z&interval=week", time.Date(2025, 5, 19, 0, 0, 0, 123e6, time.UTC), fixedNow, 1, "UTC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := url.ParseQuery(tt.query)
			require.NoError(t, err)
			q, probs := parseOverview(v, siteA, fixedNow)
			require.Empty(t, probs)
			require.True(t, tt.wantFrom.Equal(q.From), "from %s", q.From)
			require.True(t, tt.wantTo.Equal(q.To), "to %s", q.To)
			require.Len(t, q.Buckets, tt.wantBuckets)
			require.Equal(t, tt.wantZone, q.Location.String())
		})
	}
}

func TestParseOverviewRejects(t *testing.T) {
	tests := []struct {
		name       string
		query      string
		wantFields []string
	}{
		{"from not RFC 3339", "from=2025-05-01", []string{"from"}},
		{"to not a time", "to=yesterday", []string{"to"}},
		{"unescaped plus in offset", "from=2025-05-01T00:00:00+02:00", []string{"from"}},
		{"from after to", "from=2025-05-10T00:00:00Z&to=2025-05-01T00:00:00Z", []string{"from"}},
		{"empty range", "from=2025-05-10T00:00:00Z&to=2025-05-10T00:00:00Z", []string{"from"}},
		{"unknown interval", "interval=minute", []string{"interval"}},
		{"unknown zone", "tz=Mars/Olympus_Mons", []string{"tz"}},
		{"server zone", "tz=Local", []string{"tz"}},
		{"path as zone", "tz=../../etc/passwd", []string{"tz"}},
		{"too many hourly buckets", "from=2025-01-01T00:00:00Z&to=2025-03-01T00:00:00Z&interval=hour", []string{"interval"}},
		{"one bucket over the limit", "from=2025-01-01T00:00:00Z&to=2025-02-11T16:00:00.001Z&interval=hour", []string{"interval"}},
		{"year out of range", "from=1900-01-01T00:00:00Z", []string{"from"}},
		{"unknown parameter", "form=2025-05-01T00:00:00Z", []string{"form"}},
		{"repeated parameter", "interval=day&interval=week", []string{"interval"}},
		{"every problem at once", "from=x&to=y&interval=z&tz=w&site=1", []string{"site", "tz", "interval", "from", "to"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := url.ParseQuery(tt.query)
			require.NoError(t, err)
			_, probs := parseOverview(v, siteA, fixedNow)
			var fields []string
			for _, p := range probs {
				require.NotEmpty(t, p.Problem)
				fields = append(fields, p.Field)
			}
			require.Equal(t, tt.wantFields, fields)
		})
	}
}
