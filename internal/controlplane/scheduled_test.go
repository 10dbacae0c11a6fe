package controlplane

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// claimMine claims the site's due rows until every id in want has been
// decided by decide; the site's other rows are left pending.
func claimMine(t *testing.T, s *Store, site string, now time.Time, decide func(ScheduledSend) Outcome, want ...string) []ScheduledSend {
	t.Helper()
	var got []ScheduledSend
	for range 5 {
		_, err := s.ClaimDue(context.Background(), now, 1000, []string{site}, func(rows []ScheduledSend) ([]Outcome, error) {
			var out []Outcome
			for _, r := range rows {
				if slices.Contains(want, r.ID) {
					got = append(got, r)
					out = append(out, decide(r))
				}
			}
			return out, nil
		})
		require.NoError(t, err)
		if len(got) >= len(want) {
			break
		}
	}
	return got
}

func automationSend(t *testing.T, s *Store, site string, due time.Time) ScheduledSend {
	t.Helper()
	a, err := s.CreateAutomation(context.Background(), site, NewAutomation{Name: "a", Definition: def("t")})
	require.NoError(t, err)
	return ScheduledSend{
		ID: uuid.NewString(), SiteID: site, SubscriberID: "sub-" + uuid.NewString(), Source: SourceAutomation,
		AutomationID: a.ID, AutomationVersion: 1, Step: 0, TriggerEventID: "ev-1",
		TriggerProps: json.RawMessage(`{"cart_id": "c1"}`), CancelKey: "k-" + uuid.NewString(), DueAt: due,
		NotAfter: due.Add(time.Hour),
	}
}

func TestInsertScheduledIgnoresDuplicates(t *testing.T) {
	ctx := context.Background()
	s, sites := newSiteStore(t, "scheduled")
	now := future
	row := automationSend(t, s, sites[0], now)

	n, err := s.InsertScheduled(ctx, []ScheduledSend{row})
	require.NoError(t, err)
	require.Equal(t, 1, n)

	changed := row
	changed.DueAt = now.Add(time.Hour)
	other := automationSend(t, s, sites[0], now)
	n, err = s.InsertScheduled(ctx, []ScheduledSend{changed, other, other})
	require.NoError(t, err)
	require.Equal(t, 1, n, "a replayed id is left as it was; a duplicate in the batch counts once")

	got := claimMine(t, s, sites[0], now, func(r ScheduledSend) Outcome { return Outcome{ID: r.ID, State: SendSkipped, Reason: "test"} }, row.ID)
	require.Len(t, got, 1)
	g := got[0]
	require.True(t, g.DueAt.Equal(now), "the first insert wins")
	require.Equal(t, row.AutomationID, g.AutomationID)
	require.Equal(t, 1, g.AutomationVersion)
	require.Equal(t, "ev-1", g.TriggerEventID)
	require.JSONEq(t, `{"cart_id": "c1"}`, string(g.TriggerProps))
	require.Equal(t, row.CancelKey, g.CancelKey)
	require.True(t, g.NotAfter.Equal(now.Add(time.Hour)))
	require.Equal(t, SendPending, g.State)
	require.Empty(t, g.CampaignID)

	_, err = s.InsertScheduled(ctx, []ScheduledSend{{ID: "x", SiteID: sites[0]}})
	require.Error(t, err, "ids are uuids")
	n, err = s.InsertScheduled(ctx, nil)
	require.NoError(t, err)
	require.Zero(t, n)
}

// Two dispatchers claiming at once never get the same row, and every due
// row is claimed by one of them.
func TestClaimDueConcurrentClaimersNeverShareARow(t *testing.T) {
	ctx := context.Background()
	s, sites := newSiteStore(t, "claim")
	site := sites[0]
	c, err := s.CreateCampaign(ctx, site, NewCampaign{Name: "c", Definition: campaignDef("")})
	require.NoError(t, err)
	due := future
	var rows []ScheduledSend
	mine := map[string]bool{}
	for i := range 200 {
		r := campaignSend(site, c.ID, uuid.NewString(), due.Add(time.Duration(i)*time.Millisecond))
		rows = append(rows, r)
		mine[r.ID] = true
	}
	_, err = s.InsertScheduled(ctx, rows)
	require.NoError(t, err)

	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 40 {
				_, err := s.ClaimDue(ctx, future.Add(time.Hour), 7, []string{site}, func(batch []ScheduledSend) ([]Outcome, error) {
					var out []Outcome
					for _, r := range batch {
						if mine[r.ID] {
							mu.Lock()
							seen[r.ID]++
							mu.Unlock()
							out = append(out, Outcome{ID: r.ID, State: SendSent})
						}
					}
					time.Sleep(time.Millisecond) // hold the locks while the others claim
					return out, nil
				})
				if !errors.Is(err, nil) {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for id, n := range seen {
		require.Equal(t, 1, n, "row %s claimed %d times", id, n)
	}
	p, err := s.CampaignProgress(ctx, site, c.ID)
	require.NoError(t, err)
	require.Equal(t, len(seen), p.Sent)
	require.Len(t, seen, len(rows), "every due row was claimed")
}

func TestClaimDueOutcomes(t *testing.T) {
	ctx := context.Background()
	s, sites := newSiteStore(t, "outcomes")
	site := sites[0]
	now := future
	sent, held, later, failing := automationSend(t, s, site, now), automationSend(t, s, site, now), automationSend(t, s, site, now.Add(time.Hour)), automationSend(t, s, site, now)
	_, err := s.InsertScheduled(ctx, []ScheduledSend{sent, held, later, failing})
	require.NoError(t, err)

	// fn fails: nothing changes, the row is claimed again.
	_, err = s.ClaimDue(ctx, now, 1000, []string{site}, func(rows []ScheduledSend) ([]Outcome, error) {
		for _, r := range rows {
			if r.ID == failing.ID {
				return nil, errors.New("kafka down")
			}
		}
		return nil, nil
	})
	require.Error(t, err)
	require.Len(t, claimMine(t, s, site, now, func(r ScheduledSend) Outcome { return Outcome{ID: r.ID, State: SendHeldOut, Reason: "holdout"} }, failing.ID), 1)

	// Not due yet: never claimed.
	hold := now.Add(30 * time.Minute)
	got := claimMine(t, s, site, now, func(r ScheduledSend) Outcome {
		if r.ID == held.ID {
			return Outcome{ID: r.ID, State: SendPending, Reason: "quiet_hours", DueAt: hold}
		}
		return Outcome{ID: r.ID, State: SendSent}
	}, sent.ID, held.ID)
	require.Len(t, got, 2)
	for _, r := range got {
		require.NotEqual(t, later.ID, r.ID)
	}

	// The held row comes back at its new due time, with an attempt counted.
	require.Empty(t, claimMine(t, s, site, hold.Add(-time.Second), func(r ScheduledSend) Outcome { return Outcome{ID: r.ID, State: SendSkipped} }, held.ID))
	again := claimMine(t, s, site, hold, func(r ScheduledSend) Outcome { return Outcome{ID: r.ID, State: SendSkipped, Reason: "x"} }, held.ID)
	require.Len(t, again, 1)
	require.Equal(t, 1, again[0].Attempts)
	require.Equal(t, "quiet_hours", again[0].Reason)

	// A sent outcome is in the dispatch log at the claim time.
	times, err := s.RecentDispatches(ctx, site, sent.SubscriberID, now.Add(-time.Minute))
	require.NoError(t, err)
	require.Len(t, times, 1)
	require.True(t, times[0].Equal(now))
	times, err = s.RecentDispatches(ctx, site, held.SubscriberID, now.Add(-time.Minute))
	require.NoError(t, err)
	require.Empty(t, times, "held and skipped rows are not dispatches")

	// Outcomes for rows not claimed or with unknown states are refused.
	_, err = s.ClaimDue(ctx, now.Add(2*time.Hour), 1000, []string{site}, func(rows []ScheduledSend) ([]Outcome, error) {
		return []Outcome{{ID: uuid.NewString(), State: SendSent}}, nil
	})
	require.ErrorIs(t, err, ErrOutcome)
	_, err = s.ClaimDue(ctx, now.Add(2*time.Hour), 1000, []string{site}, func(rows []ScheduledSend) ([]Outcome, error) {
		for _, r := range rows {
			if r.ID == later.ID {
				return []Outcome{{ID: r.ID, State: "done"}}, nil
			}
		}
		return nil, nil
	})
	require.ErrorIs(t, err, ErrOutcome)
}

func TestCancelPendingAndSkipSeries(t *testing.T) {
	ctx := context.Background()
	s, sites := newSiteStore(t, "cancel")
	site := sites[0]
	now := time.Now().Add(24 * time.Hour) // not due: no claimer touches them
	a := automationSend(t, s, site, now)
	b := a
	b.ID, b.Step = uuid.NewString(), 1 // the next step of the same run, same cancel key
	other := automationSend(t, s, site, now)
	_, err := s.InsertScheduled(ctx, []ScheduledSend{a, b, other})
	require.NoError(t, err)

	n, err := s.CancelPending(ctx, a.CancelKey)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	n, err = s.CancelPending(ctx, a.CancelKey)
	require.NoError(t, err)
	require.Zero(t, n, "only pending rows")
	n, err = s.CancelPending(ctx, "")
	require.NoError(t, err)
	require.Zero(t, n, "an empty key cancels nothing")

	n, err = s.SkipSeries(ctx, other.AutomationID, other.SubscriberID, "another trigger", "converted")
	require.NoError(t, err)
	require.Zero(t, n)
	n, err = s.SkipSeries(ctx, other.AutomationID, other.SubscriberID, other.TriggerEventID, "converted")
	require.NoError(t, err)
	require.Equal(t, 1, n)

	var states []string
	rows, err := s.db.Query(ctx, `SELECT state || ':' || reason FROM scheduled_sends WHERE id = ANY($1) ORDER BY id`,
		[]string{a.ID, b.ID, other.ID})
	require.NoError(t, err)
	for rows.Next() {
		var st string
		require.NoError(t, rows.Scan(&st))
		states = append(states, st)
	}
	require.NoError(t, rows.Err())
	require.ElementsMatch(t, []string{"cancelled:cancelled_by_event", "cancelled:cancelled_by_event", "skipped:converted"}, states)
}

func TestEnterAutomationCooldown(t *testing.T) {
	ctx := context.Background()
	s, sites := newSiteStore(t, "cooldown")
	a, err := s.CreateAutomation(ctx, sites[0], NewAutomation{Name: "a", Definition: def("t")})
	require.NoError(t, err)
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	enter := func(sub string, at time.Time, cooldown time.Duration) bool {
		ok, err := s.EnterAutomation(ctx, a.ID, sub, at, cooldown)
		require.NoError(t, err)
		return ok
	}
	require.True(t, enter("s1", t0, day), "first entry")
	require.False(t, enter("s1", t0.Add(time.Hour), day), "within the cooldown")
	require.False(t, enter("s1", t0.Add(day-time.Second), day))
	require.True(t, enter("s1", t0.Add(day), day), "exactly one cooldown later")
	require.False(t, enter("s1", t0.Add(day+time.Hour), day), "the cooldown restarts at the last entry")
	require.True(t, enter("s2", t0.Add(time.Hour), day), "per subscriber")
	require.True(t, enter("s3", t0, 0))
	require.True(t, enter("s3", t0, 0), "no cooldown: always")

	// Concurrent triggers: exactly one enters.
	var wg sync.WaitGroup
	var mu sync.Mutex
	entered := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.EnterAutomation(ctx, a.ID, "s4", t0, day)
			if err != nil {
				t.Error(err)
				return
			}
			if ok {
				mu.Lock()
				entered++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	require.Equal(t, 1, entered)
}

func TestRecordDispatch(t *testing.T) {
	ctx := context.Background()
	s, sites := newSiteStore(t, "dispatch", "dispatch other")
	now := time.Now().UTC().Truncate(time.Microsecond)
	id := uuid.NewString()
	require.NoError(t, s.RecordDispatch(ctx, id, sites[0], "sub", now.Add(-2*time.Hour)))
	require.NoError(t, s.RecordDispatch(ctx, id, sites[0], "sub", now), "the first record stays")
	require.NoError(t, s.RecordDispatch(ctx, uuid.NewString(), sites[0], "sub", now.Add(-time.Hour)))
	require.NoError(t, s.RecordDispatch(ctx, uuid.NewString(), sites[1], "sub", now))
	require.Error(t, s.RecordDispatch(ctx, "not-a-uuid", sites[0], "sub", now))

	got, err := s.RecentDispatches(ctx, sites[0], "sub", now.Add(-3*time.Hour))
	require.NoError(t, err)
	require.Equal(t, []time.Time{now.Add(-2 * time.Hour), now.Add(-time.Hour)}, utc(got))
	got, err = s.RecentDispatches(ctx, sites[0], "sub", now.Add(-2*time.Hour))
	require.NoError(t, err)
	require.Equal(t, []time.Time{now.Add(-time.Hour)}, utc(got), "since is exclusive")
}

func utc(ts []time.Time) []time.Time {
	out := make([]time.Time, len(ts))
	for i, t := range ts {
		out[i] = t.UTC()
	}
	return out
}
