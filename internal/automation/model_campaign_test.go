package automation

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const saleCampaign = `{
  "variants": [{"name": "a", "weight": 70, "message": {"title": "Sale"}},
               {"name": "b", "weight": 30, "message": {"title": "Sale!", "urgency": "high"}}],
  "include": ["s1", "s2"], "exclude": ["s3"],
  "schedule": {"at": "2026-12-01T08:00:00Z", "local_time": "09:30"},
  "throttle_per_minute": 600, "holdout_pct": 5
}`

func TestParseCampaign(t *testing.T) {
	c, problems := ParseCampaign([]byte(saleCampaign))
	require.Empty(t, problems)
	require.Len(t, c.Variants, 2)
	require.Equal(t, "b", c.Variants[1].Name)
	require.Equal(t, 30, c.Variants[1].Weight)
	require.Equal(t, "high", c.Variants[1].Message.Urgency)
	require.Equal(t, []string{"s1", "s2"}, c.Include)
	require.Equal(t, []string{"s3"}, c.Exclude)
	require.True(t, c.Schedule.At.Equal(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)))
	require.Equal(t, "09:30", c.Schedule.LocalTime)
	require.Equal(t, 600, c.ThrottlePerMinute)

	data, err := json.Marshal(c)
	require.NoError(t, err)
	var back Campaign
	require.NoError(t, json.Unmarshal(data, &back))
	require.Equal(t, c, back)

	now, problems := ParseCampaign([]byte(`{"variants": [{"name": "only", "message": {"title": "t"}}], "include": ["s"]}`))
	require.Empty(t, problems)
	require.True(t, now.Schedule.At.IsZero(), "no schedule: now")
	data, err = json.Marshal(now)
	require.NoError(t, err)
	require.NotContains(t, string(data), "schedule", "a zero schedule is left out")
}

func TestParseCampaignProblems(t *testing.T) {
	v := `{"name": "a", "message": {"title": "t"}}`
	tests := []struct {
		name, json string
		paths      []string
	}{
		{"unknown field", `{"variants": [` + v + `], "include": ["s"], "segments": []}`, []string{""}},
		{"no variants", `{"variants": [], "include": ["s"]}`, []string{"variants"}},
		{"bad variant name", `{"variants": [{"name": "a b", "message": {"title": "t"}}], "include": ["s"]}`, []string{"variants[0].name"}},
		{"duplicate variant", `{"variants": [` + v + `, ` + v + `], "include": ["s"]}`, []string{"variants[1].name"}},
		{"negative weight", `{"variants": [{"name": "a", "weight": -1, "message": {"title": "t"}}], "include": ["s"]}`, []string{"variants[0].weight"}},
		{"message problem", `{"variants": [{"name": "a", "message": {"title": "t", "topic": "a.b"}}], "include": ["s"]}`, []string{"variants[0].message.topic"}},
		{"no include", `{"variants": [` + v + `]}`, []string{"include"}},
		{"empty segment id", `{"variants": [` + v + `], "include": [""]}`, []string{"include[0]"}},
		{"included and excluded", `{"variants": [` + v + `], "include": ["s"], "exclude": ["s"]}`, []string{"exclude[0]"}},
		{"bad local time", `{"variants": [` + v + `], "include": ["s"], "schedule": {"local_time": "24:00"}}`, []string{"schedule.local_time"}},
		{"local time without minutes", `{"variants": [` + v + `], "include": ["s"], "schedule": {"local_time": "9:00"}}`, []string{"schedule.local_time"}},
		{"negative throttle", `{"variants": [` + v + `], "include": ["s"], "throttle_per_minute": -5}`, []string{"throttle_per_minute"}},
		{"holdout", `{"variants": [` + v + `], "include": ["s"], "holdout_pct": 60}`, []string{"holdout_pct"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, problems := ParseCampaign([]byte(tt.json))
			paths := make([]string, len(problems))
			for i, p := range problems {
				paths[i] = p.Path
			}
			require.Equal(t, tt.paths, paths, "%v", problems)
		})
	}
}

func TestScheduleSendTime(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	require.NoError(t, err)
	la, err := time.LoadLocation("America/Los_Angeles")
	require.NoError(t, err)
	now := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC) // 12:00 in Tokyo, 19:00 Nov 30 in LA
	at := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		s    Schedule
		loc  *time.Location
		want time.Time
	}{
		{"now", Schedule{}, tokyo, now},
		{"absolute", Schedule{At: at}, tokyo, at},
		{"local time passed today in Tokyo: tomorrow", Schedule{LocalTime: "09:30"}, tokyo, time.Date(2026, 12, 2, 9, 30, 0, 0, tokyo)},
		{"local time still ahead today in Tokyo", Schedule{LocalTime: "18:00"}, tokyo, time.Date(2026, 12, 1, 18, 0, 0, 0, tokyo)},
		{"local time passed on At's date in LA: the next day", Schedule{At: at, LocalTime: "09:30"}, la, time.Date(2026, 12, 2, 9, 30, 0, 0, la)},
		{"local time after At on its date in LA", Schedule{At: at, LocalTime: "20:00"}, la, time.Date(2026, 12, 1, 20, 0, 0, 0, la)},
		{"local time on At's date in Tokyo", Schedule{At: at, LocalTime: "09:30"}, tokyo, time.Date(2026, 12, 2, 9, 30, 0, 0, tokyo)},
		{"no location: At", Schedule{At: at, LocalTime: "09:30"}, nil, at},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.True(t, tt.want.Equal(tt.s.SendTime(now, tt.loc)), "got %v want %v", tt.s.SendTime(now, tt.loc), tt.want)
		})
	}
}
