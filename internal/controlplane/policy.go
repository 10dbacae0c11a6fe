package controlplane

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pushpipe/pushpipe/internal/automation"
)

// ErrInvalidSettings means site settings fail validation.
var ErrInvalidSettings = errors.New("invalid site settings")

// SiteSettings are a site's delivery policy, attribution window and send
// rate.
type SiteSettings struct {
	Policy            automation.Policy
	AttributionWindow time.Duration // a conversion this long after a click is attributed to it
	SendRatePerMinute int           // per-site throttle of the dispatcher; 0: none
}

// Validate reports every problem at once, wrapping ErrInvalidSettings.
func (s SiteSettings) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	p := s.Policy
	if p.CapCount < 0 {
		add("freq_cap_count: must not be negative")
	}
	if p.CapWindow < time.Second || p.CapWindow%time.Second != 0 || p.CapWindow > 365*24*time.Hour {
		add("freq_cap_window: must be whole seconds from 1s to 365 days")
	}
	if p.QuietStart < 0 || p.QuietStart >= 24*60 {
		add("quiet_start_minute: must be from 0 to 1439")
	}
	if p.QuietEnd < 0 || p.QuietEnd >= 24*60 {
		add("quiet_end_minute: must be from 0 to 1439")
	}
	if p.QuietMode != automation.QuietHold && p.QuietMode != automation.QuietDrop {
		add("quiet_mode: %q is not hold or drop", p.QuietMode)
	}
	if _, err := time.LoadLocation(p.DefaultTimezone); err != nil || p.DefaultTimezone == "" || len(p.DefaultTimezone) > 64 {
		add("default_timezone: %q is not a known IANA timezone", p.DefaultTimezone)
	}
	if s.AttributionWindow < time.Second || s.AttributionWindow%time.Second != 0 || s.AttributionWindow > 365*24*time.Hour {
		add("attribution_window: must be whole seconds from 1s to 365 days")
	}
	if s.SendRatePerMinute < 0 {
		add("send_rate_per_minute: must not be negative")
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrInvalidSettings, errors.Join(errs...))
}

// SitePolicy returns the site's settings.
func (s *Store) SitePolicy(ctx context.Context, siteID string) (SiteSettings, error) {
	if !validIDs(siteID) {
		return SiteSettings{}, fmt.Errorf("site policy: %w", ErrNotFound)
	}
	var out SiteSettings
	var capWindow, attribution int64
	p := &out.Policy
	err := s.db.QueryRow(ctx, `SELECT freq_cap_count, freq_cap_window_seconds, quiet_start_minute, quiet_end_minute,
		quiet_mode, default_timezone, attribution_window_seconds, send_rate_per_minute FROM sites WHERE id = $1`, siteID).
		Scan(&p.CapCount, &capWindow, &p.QuietStart, &p.QuietEnd, &p.QuietMode, &p.DefaultTimezone, &attribution, &out.SendRatePerMinute)
	if errors.Is(err, pgx.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return SiteSettings{}, fmt.Errorf("site policy: %w", err)
	}
	p.CapWindow = time.Duration(capWindow) * time.Second
	out.AttributionWindow = time.Duration(attribution) * time.Second
	return out, nil
}

// UpdateSitePolicy replaces the site's settings after validating them.
func (s *Store) UpdateSitePolicy(ctx context.Context, siteID string, in SiteSettings) error {
	if !validIDs(siteID) {
		return fmt.Errorf("update site policy: %w", ErrNotFound)
	}
	if err := in.Validate(); err != nil {
		return fmt.Errorf("update site policy: %w", err)
	}
	p := in.Policy
	tag, err := s.db.Exec(ctx, `UPDATE sites SET freq_cap_count = $2, freq_cap_window_seconds = $3, quiet_start_minute = $4,
		quiet_end_minute = $5, quiet_mode = $6, default_timezone = $7, attribution_window_seconds = $8, send_rate_per_minute = $9
		WHERE id = $1`, siteID, p.CapCount, int64(p.CapWindow/time.Second), p.QuietStart, p.QuietEnd, p.QuietMode,
		p.DefaultTimezone, int64(in.AttributionWindow/time.Second), in.SendRatePerMinute)
	if err != nil {
		return fmt.Errorf("update site policy: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("update site policy: %w", ErrNotFound)
	}
	return nil
}
