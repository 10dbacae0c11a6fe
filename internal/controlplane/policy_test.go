package controlplane

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/automation"
)

func TestSitePolicy(t *testing.T) {
	ctx := context.Background()
	s, sites := newSiteStore(t, "policy")
	got, err := s.SitePolicy(ctx, sites[0])
	require.NoError(t, err)
	require.Equal(t, SiteSettings{
		Policy:            automation.Policy{CapWindow: 24 * time.Hour, QuietMode: automation.QuietHold, DefaultTimezone: "UTC"},
		AttributionWindow: 24 * time.Hour,
	}, got, "defaults: no cap, no quiet hours, 24 h attribution")

	want := SiteSettings{
		Policy: automation.Policy{
			CapCount: 3, CapWindow: 6 * time.Hour, QuietStart: 22 * 60, QuietEnd: 7 * 60,
			QuietMode: automation.QuietDrop, DefaultTimezone: "Europe/Paris",
		},
		AttributionWindow: 48 * time.Hour, SendRatePerMinute: 600,
	}
	require.NoError(t, s.UpdateSitePolicy(ctx, sites[0], want))
	got, err = s.SitePolicy(ctx, sites[0])
	require.NoError(t, err)
	require.Equal(t, want, got)

	_, err = s.SitePolicy(ctx, uuid.NewString())
	require.ErrorIs(t, err, ErrNotFound)
	require.ErrorIs(t, s.UpdateSitePolicy(ctx, uuid.NewString(), want), ErrNotFound)
}

func TestSiteSettingsValidate(t *testing.T) {
	good := SiteSettings{Policy: automation.Policy{CapWindow: time.Hour, QuietMode: "hold", DefaultTimezone: "UTC"}, AttributionWindow: time.Hour}
	require.NoError(t, good.Validate())
	tests := []struct {
		name   string
		modify func(*SiteSettings)
		want   string
	}{
		{"negative cap", func(s *SiteSettings) { s.Policy.CapCount = -1 }, "freq_cap_count"},
		{"zero window", func(s *SiteSettings) { s.Policy.CapWindow = 0 }, "freq_cap_window"},
		{"fractional window", func(s *SiteSettings) { s.Policy.CapWindow = 1500 * time.Millisecond }, "freq_cap_window"},
		{"quiet start", func(s *SiteSettings) { s.Policy.QuietStart = 1440 }, "quiet_start_minute"},
		{"quiet end", func(s *SiteSettings) { s.Policy.QuietEnd = -1 }, "quiet_end_minute"},
		{"mode", func(s *SiteSettings) { s.Policy.QuietMode = "delay" }, "quiet_mode"},
		{"timezone", func(s *SiteSettings) { s.Policy.DefaultTimezone = "Mars/Base" }, "default_timezone"},
		{"empty timezone", func(s *SiteSettings) { s.Policy.DefaultTimezone = "" }, "default_timezone"},
		{"attribution", func(s *SiteSettings) { s.AttributionWindow = 0 }, "attribution_window"},
		{"rate", func(s *SiteSettings) { s.SendRatePerMinute = -1 }, "send_rate_per_minute"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := good
			tt.modify(&s)
			err := s.Validate()
			require.ErrorIs(t, err, ErrInvalidSettings)
			require.ErrorContains(t, err, tt.want)
		})
	}
}
