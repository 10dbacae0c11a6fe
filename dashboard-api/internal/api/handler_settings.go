package api

import (
	"errors"
	"fmt"
	"net/http"
	"time"
	_ "time/tzdata" // timezone names validate the same on every host

	"github.com/gin-gonic/gin"

	"github.com/pushpipe/pushpipe/internal/automation"
	"github.com/pushpipe/pushpipe/internal/controlplane"
)

// SettingsResponse is a site's delivery policy, attribution window and
// send rate. Durations are written "30m", "1h", "1d"; quiet hours are local
// "HH:MM" times in each subscriber's timezone (start == end: none).
type SettingsResponse struct {
	FreqCapCount      int    `json:"freq_cap_count"`  // pushes per subscriber per window; 0: no cap
	FreqCapWindow     string `json:"freq_cap_window"` // the cap's rolling window
	QuietStart        string `json:"quiet_start"`
	QuietEnd          string `json:"quiet_end"`
	QuietMode         string `json:"quiet_mode"`       // hold or drop
	DefaultTimezone   string `json:"default_timezone"` // for subscribers whose timezone is unknown
	AttributionWindow string `json:"attribution_window"`
	SendRatePerMinute int    `json:"send_rate_per_minute"` // per-site throttle; 0: none
}

// SettingsRequest is the body of PUT /v1/sites/{site}/settings: the fields
// of SettingsResponse; a field left out keeps its value.
type SettingsRequest struct {
	FreqCapCount      *int    `json:"freq_cap_count"`
	FreqCapWindow     *string `json:"freq_cap_window"`
	QuietStart        *string `json:"quiet_start"`
	QuietEnd          *string `json:"quiet_end"`
	QuietMode         *string `json:"quiet_mode"`
	DefaultTimezone   *string `json:"default_timezone"`
	AttributionWindow *string `json:"attribution_window"`
	SendRatePerMinute *int    `json:"send_rate_per_minute"`
}

// Limits of site settings.
const (
	MaxFreqCapCount        = 1000
	MaxFreqCapWindow       = 365 * 24 * time.Hour
	MaxAttributionWindow   = 90 * 24 * time.Hour
	MaxSendRatePerMinute   = 1_000_000
	maxTimezoneName        = 64
	minSettingsDurationStr = "1m"
)

func settingsResponse(s controlplane.SiteSettings) SettingsResponse {
	p := s.Policy
	return SettingsResponse{
		FreqCapCount: p.CapCount, FreqCapWindow: automation.Duration(p.CapWindow).String(),
		QuietStart: clock(p.QuietStart), QuietEnd: clock(p.QuietEnd), QuietMode: p.QuietMode,
		DefaultTimezone: p.DefaultTimezone, AttributionWindow: automation.Duration(s.AttributionWindow).String(),
		SendRatePerMinute: s.SendRatePerMinute,
	}
}

func clock(minute int) string { return fmt.Sprintf("%02d:%02d", minute/60, minute%60) }

// getSettings is GET /v1/sites/{site}/settings.
func (h *handlers) getSettings(c *gin.Context) {
	ctx, cancel := h.requestContext(c)
	defer cancel()
	s, err := h.settings.SitePolicy(ctx, c.Param("site"))
	if err != nil {
		h.failure(c, err, "site")
		return
	}
	c.PureJSON(http.StatusOK, settingsResponse(s))
}

// updateSettings is PUT /v1/sites/{site}/settings.
func (h *handlers) updateSettings(c *gin.Context) {
	var req SettingsRequest
	if !decodeBody(c, &req) {
		return
	}
	ctx, cancel := h.requestContext(c)
	defer cancel()
	site := c.Param("site")
	cur, err := h.settings.SitePolicy(ctx, site)
	if err != nil {
		h.failure(c, err, "site")
		return
	}
	next, probs := applySettings(cur, req)
	if len(probs) > 0 {
		refuse(c, http.StatusBadRequest, probs...)
		return
	}
	if err := h.settings.UpdateSitePolicy(ctx, site, next); err != nil {
		if errors.Is(err, controlplane.ErrInvalidSettings) {
			refuse(c, http.StatusBadRequest, Problem{"", err.Error()})
			return
		}
		h.failure(c, err, "site")
		return
	}
	h.audit(c, "settings.update", c.Param("site"), req)
	c.PureJSON(http.StatusOK, settingsResponse(next))
}

// applySettings returns cur with the fields req sets, and every problem of them.
func applySettings(cur controlplane.SiteSettings, req SettingsRequest) (controlplane.SiteSettings, []Problem) {
	var probs []Problem
	add := func(field, format string, args ...any) {
		probs = append(probs, Problem{field, fmt.Sprintf(format, args...)})
	}
	p := &cur.Policy
	if n := req.FreqCapCount; n != nil {
		if *n < 0 || *n > MaxFreqCapCount {
			add("freq_cap_count", "must be from 0 (no cap) to %d", MaxFreqCapCount)
		}
		p.CapCount = *n
	}
	if d, ok := settingsDuration(req.FreqCapWindow, "freq_cap_window", MaxFreqCapWindow, add); ok {
		p.CapWindow = d
	}
	if d, ok := settingsDuration(req.AttributionWindow, "attribution_window", MaxAttributionWindow, add); ok {
		cur.AttributionWindow = d
	}
	for _, f := range []struct {
		field string
		value *string
		dest  *int
	}{{"quiet_start", req.QuietStart, &p.QuietStart}, {"quiet_end", req.QuietEnd, &p.QuietEnd}} {
		if f.value == nil {
			continue
		}
		if m, ok := automation.ParseLocalTime(*f.value); ok {
			*f.dest = m
		} else {
			add(f.field, "%q is not a local time HH:MM (00:00 to 23:59)", *f.value)
		}
	}
	if m := req.QuietMode; m != nil {
		if *m != automation.QuietHold && *m != automation.QuietDrop {
			add("quiet_mode", "%q is not hold (send when quiet hours end) or drop (never send)", *m)
		}
		p.QuietMode = *m
	}
	if tz := req.DefaultTimezone; tz != nil {
		if _, err := time.LoadLocation(*tz); err != nil || *tz == "" || len(*tz) > maxTimezoneName {
			add("default_timezone", "%q is not an IANA timezone name such as Europe/Paris or UTC", *tz)
		}
		p.DefaultTimezone = *tz
	}
	if n := req.SendRatePerMinute; n != nil {
		if *n < 0 || *n > MaxSendRatePerMinute {
			add("send_rate_per_minute", "must be from 0 (no limit) to %d", MaxSendRatePerMinute)
		}
		cur.SendRatePerMinute = *n
	}
	return cur, probs
}

// settingsDuration reads an optional duration from 1m to limit.
func settingsDuration(s *string, field string, limit time.Duration, add func(field, format string, args ...any)) (time.Duration, bool) {
	if s == nil {
		return 0, false
	}
	d, err := automation.ParseDuration(*s)
	if err != nil || d.D() < time.Minute || d.D() > limit {
		add(field, "%q is not a duration from %s to %s, written like \"30m\", \"12h\" or \"1d\"",
			*s, minSettingsDurationStr, automation.Duration(limit))
		return 0, false
	}
	return d.D(), true
}
