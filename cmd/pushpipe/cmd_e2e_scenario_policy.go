package main

import (
	"context"
	"errors"
	"fmt"
	"time"
	_ "time/tzdata" // the quiet-hours scenario picks a timezone whatever the host has
)

// e2eFreqCap: the site's frequency cap is 1 push per hour; an event
// automation triggered twice sends one push.
type e2eFreqCap struct {
	e2eSite
	automationID string
}

func (s *e2eFreqCap) name() string { return "frequency-cap" }

func (s *e2eFreqCap) prepare(ctx context.Context, r *e2eRun) error {
	if err := s.open(ctx, r, s.name()); err != nil {
		return err
	}
	if err := s.api.putSettings(ctx, e2eSettings{CapCount: 1, CapWindow: time.Hour}); err != nil {
		return err
	}
	var err error
	s.automationID, err = s.api.createAutomation(ctx, "ping", s.def())
	return err
}

func (s *e2eFreqCap) def() any {
	return e2eAutomation(e2eOnCustom("e2e_ping"), e2eStep{Message: e2eMessage("Ping", "Once an hour at most")})
}

func (s *e2eFreqCap) run(ctx context.Context, r *e2eRun) (string, error) {
	const who = "capped"
	subs, err := s.subscribeAll(ctx, r, []string{who}, "")
	if err != nil {
		return "", err
	}
	first, err := s.custom(ctx, r, who, "e2e_ping", "", nil)
	if err != nil {
		return "", err
	}
	if r.stack.pushes.wait(ctx, []string{subs[0].ID}, 30*time.Second) > 0 {
		return "", fmt.Errorf("%w for the first trigger within 30s (the cap allows one)", errNoPush)
	}
	got := r.stack.pushes.of(subs[0].ID)
	r.sample(got[0].At.Sub(first))
	if _, err := s.custom(ctx, r, who, "e2e_ping", "", nil); err != nil {
		return "", err
	}
	if err := sleep(ctx, 15*time.Second); err != nil {
		return "", err
	}
	got = r.stack.pushes.of(subs[0].ID)
	if err := pushCount(got, 1); err != nil {
		return "", fmt.Errorf("two triggers under a cap of 1 per 1h: %w", err)
	}
	if err := checkPayload(got[0], who, s.automationID, ""); err != nil {
		return "", err
	}
	rows, err := r.stack.rowsOf(ctx, s.site.ID, who)
	if err != nil {
		return "", err
	}
	// Held until the first push leaves the 1h window, or dropped.
	second, err := heldUntil(rows, got[0].At.Add(time.Hour), "frequency_cap")
	if err != nil {
		return "", fmt.Errorf("the second trigger's push: %w", err)
	}
	return "two triggers under a cap of 1 per 1h gave exactly one push; the second is " + second, nil
}

// e2eQuiet: the site's quiet hours cover the current local time of a
// subscriber whose beacons carry a timezone (mode hold): triggered, it gets
// no push during the run, while a subscriber in the site's default
// timezone (UTC, outside the quiet window) gets one at once.
type e2eQuiet struct {
	e2eSite
	automationID string
	zone         string
	start, end   int // quiet window, minutes after local midnight
	quietSub     string
}

func (s *e2eQuiet) name() string { return "quiet-hours" }

func (s *e2eQuiet) prepare(ctx context.Context, r *e2eRun) error {
	var err error
	if s.zone, s.start, s.end, err = e2eQuietZone(time.Now()); err != nil {
		return err
	}
	if err := s.open(ctx, r, s.name()); err != nil {
		return err
	}
	if err := s.api.putSettings(ctx, e2eSettings{QuietStart: s.start, QuietEnd: s.end, QuietMode: "hold", DefaultZone: "UTC"}); err != nil {
		return err
	}
	s.automationID, err = s.api.createAutomation(ctx, "quiet", s.def())
	return err
}

func (s *e2eQuiet) def() any {
	return e2eAutomation(e2eOnCustom("e2e_quiet"), e2eStep{Message: e2eMessage("Psst", "Not at night")})
}

func (s *e2eQuiet) run(ctx context.Context, r *e2eRun) (string, error) {
	quiet, err := s.subscribeAll(ctx, r, []string{"quiet-local"}, s.zone)
	if err != nil {
		return "", err
	}
	awake, err := s.subscribeAll(ctx, r, []string{"quiet-utc"}, "")
	if err != nil {
		return "", err
	}
	s.quietSub = quiet[0].ID
	if _, err := s.custom(ctx, r, "quiet-local", "e2e_quiet", s.zone, nil); err != nil {
		return "", err
	}
	sent, err := s.custom(ctx, r, "quiet-utc", "e2e_quiet", "", nil)
	if err != nil {
		return "", err
	}
	if r.stack.pushes.wait(ctx, []string{awake[0].ID}, 30*time.Second) > 0 {
		return "", fmt.Errorf("%w within 30s for the subscriber outside the quiet window (UTC)", errNoPush)
	}
	got := r.stack.pushes.of(awake[0].ID)
	r.sample(got[0].At.Sub(sent))
	if err := sleep(ctx, 15*time.Second); err != nil {
		return "", err
	}
	if err := errors.Join(s.final(ctx, r), pushCount(r.stack.pushes.of(awake[0].ID), 1)); err != nil {
		return "", err
	}
	rows, err := r.stack.rowsOf(ctx, s.site.ID, "quiet-local")
	if err != nil {
		return "", err
	}
	held, err := heldUntil(rows, s.windowEnd(time.Now()), "quiet_hours")
	if err != nil {
		return "", fmt.Errorf("the quiet subscriber's push: %w", err)
	}
	return fmt.Sprintf("quiet window %s-%s in %s (mode hold): the push there is %s; the UTC subscriber got its push at once",
		e2eClock(s.start), e2eClock(s.end), s.zone, held), nil
}

// windowEnd is when today's quiet window ends in the subscriber's timezone.
func (s *e2eQuiet) windowEnd(now time.Time) time.Time {
	loc, err := time.LoadLocation(s.zone)
	if err != nil {
		return now
	}
	l := now.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, s.end, 0, 0, loc)
}

// final checks the quiet subscriber still got nothing.
func (s *e2eQuiet) final(_ context.Context, r *e2eRun) error {
	if got := r.stack.pushes.of(s.quietSub); len(got) > 0 {
		return fmt.Errorf("the subscriber in %s got a push during its quiet window %s-%s: %s",
			s.zone, e2eClock(s.start), e2eClock(s.end), got[0].Plaintext)
	}
	return nil
}

// e2eQuietZones are candidate subscriber timezones, hours apart.
var e2eQuietZones = []string{
	"Asia/Tokyo", "America/Los_Angeles", "Asia/Kolkata", "America/New_York", "Pacific/Auckland",
	"Europe/Moscow", "America/Sao_Paulo", "Asia/Shanghai", "Pacific/Honolulu", "Europe/Berlin",
}

// e2eQuietZone picks a timezone where it is now at least 1.5 h from
// midnight, and more than 2 h from the time in UTC, and the quiet window
// from an hour before to an hour after its local time now (not crossing
// midnight, and not covering the time in UTC).
func e2eQuietZone(now time.Time) (zone string, start, end int, err error) {
	utc := minuteOfDay(now.UTC())
	for _, z := range e2eQuietZones {
		loc, lerr := time.LoadLocation(z)
		if lerr != nil {
			continue
		}
		m := minuteOfDay(now.In(loc))
		d := min((m-utc+1440)%1440, (utc-m+1440)%1440)
		if m >= 90 && m <= 1440-90 && d > 120 {
			return z, m - 60, m + 60, nil
		}
	}
	return "", 0, 0, errors.New("no candidate timezone is far enough from midnight and from UTC")
}

func minuteOfDay(t time.Time) int { return t.Hour()*60 + t.Minute() }

func e2eClock(minute int) string { return fmt.Sprintf("%02d:%02d", minute/60, minute%60) }
