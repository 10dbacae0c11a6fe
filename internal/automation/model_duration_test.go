package automation

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		out  string
	}{
		{"0", 0, "0m"},
		{"0m", 0, "0m"},
		{"30m", 30 * time.Minute, "30m"},
		{"90m", 90 * time.Minute, "90m"},
		{"60m", time.Hour, "1h"},
		{"48h", 48 * time.Hour, "2d"},
		{"365d", 365 * 24 * time.Hour, "365d"},
	}
	for _, tt := range tests {
		d, err := ParseDuration(tt.in)
		require.NoError(t, err, tt.in)
		require.Equal(t, tt.want, d.D())
		require.Equal(t, tt.out, d.String())
	}
	for _, bad := range []string{"", "m", "1", "1w", "-1h", "1.5h", "366d", "99999999999999999999d"} {
		_, err := ParseDuration(bad)
		require.Error(t, err, bad)
	}
	var d Duration
	require.Error(t, json.Unmarshal([]byte(`3600`), &d), "numbers are not durations")
}
