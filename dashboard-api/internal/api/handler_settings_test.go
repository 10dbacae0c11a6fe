package api

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/automation"
)

func settingsPath(site string) string { return "/v1/sites/" + site + "/settings" }

func TestSettingsRoundTrip(t *testing.T) {
	e := newPushEnv()
	rec := e.do(t, http.MethodGet, settingsPath(siteA), keyA, "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, SettingsResponse{
		FreqCapWindow: "1d", QuietStart: "00:00", QuietEnd: "00:00", QuietMode: "hold", DefaultTimezone: "UTC", AttributionWindow: "1d",
	}, decode[SettingsResponse](t, rec))

	rec = e.do(t, http.MethodPut, settingsPath(siteA), keyA, `{"freq_cap_count":3,"freq_cap_window":"12h","quiet_start":"22:00",
		"quiet_end":"07:30","quiet_mode":"drop","default_timezone":"Europe/Paris","attribution_window":"2d","send_rate_per_minute":600}`)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	want := SettingsResponse{
		FreqCapCount: 3, FreqCapWindow: "12h", QuietStart: "22:00", QuietEnd: "07:30", QuietMode: "drop",
		DefaultTimezone: "Europe/Paris", AttributionWindow: "2d", SendRatePerMinute: 600,
	}
	require.Equal(t, want, decode[SettingsResponse](t, rec))
	got, err := e.settings.SitePolicy(t.Context(), siteA)
	require.NoError(t, err)
	require.Equal(t, automation.Policy{
		CapCount: 3, CapWindow: 12 * time.Hour, QuietStart: 22 * 60, QuietEnd: 7*60 + 30,
		QuietMode: "drop", DefaultTimezone: "Europe/Paris",
	}, got.Policy)
	require.Equal(t, 48*time.Hour, got.AttributionWindow)

	rec = e.do(t, http.MethodPut, settingsPath(siteA), keyA, `{"freq_cap_count":0}`)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	want.FreqCapCount = 0
	require.Equal(t, want, decode[SettingsResponse](t, rec), "fields left out keep their value")
	require.Equal(t, want, decode[SettingsResponse](t, e.do(t, http.MethodGet, settingsPath(siteA), keyA, "")))
	require.Equal(t, "UTC", decode[SettingsResponse](t, e.do(t, http.MethodGet, settingsPath(siteB), keyB, "")).DefaultTimezone,
		"site B keeps its own")
}

func TestSettingsValidation(t *testing.T) {
	e := newPushEnv()
	rec := e.do(t, http.MethodPut, settingsPath(siteA), keyA, `{"freq_cap_count":-1,"freq_cap_window":"0","quiet_start":"24:00",
		"quiet_end":"7:30","quiet_mode":"later","default_timezone":"Mars/Olympus","attribution_window":"91d","send_rate_per_minute":-5}`)
	require.Equal(t, http.StatusBadRequest, rec.Code)
	require.Equal(t, []string{
		"freq_cap_count", "freq_cap_window", "attribution_window", "quiet_start", "quiet_end",
		"quiet_mode", "default_timezone", "send_rate_per_minute",
	}, fields(t, rec))
	for _, body := range []string{`{"default_timezone":""}`, `{"freq_cap_window":"1h30m"}`, `{"colour":"red"}`, `{"freq_cap_count":"3"}`} {
		rec := e.do(t, http.MethodPut, settingsPath(siteA), keyA, body)
		require.Equal(t, http.StatusBadRequest, rec.Code, body)
	}
	require.Equal(t, http.StatusForbidden, e.do(t, http.MethodGet, settingsPath(siteB), keyA, "").Code)
	require.Equal(t, http.StatusForbidden, e.do(t, http.MethodPut, settingsPath(siteB), keyA, `{"freq_cap_count":1}`).Code)
	got, _ := e.settings.SitePolicy(t.Context(), siteA)
	require.Equal(t, defaultSettings, got, "nothing stored")
}
