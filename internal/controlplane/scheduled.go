package controlplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Sources of a scheduled send.
const (
	SourceAutomation = "automation"
	SourceCampaign   = "campaign"
)

// States of a scheduled send.
const (
	SendPending   = "pending"
	SendSent      = "sent"
	SendSkipped   = "skipped"
	SendHeldOut   = "held_out"
	SendCancelled = "cancelled"
)

// ScheduledSend is one push that will be (or was) sent. ID is the
// deterministic push-request id (automation.RequestID or
// automation.CampaignRequestID).
type ScheduledSend struct {
	ID                string
	SiteID            string
	SubscriberID      string
	Source            string // SourceAutomation or SourceCampaign
	AutomationID      string // "" for campaigns
	AutomationVersion int    // the version whose step is rendered
	Step              int
	CampaignID        string // "" for automations
	Variant           string
	TriggerEventID    string
	TriggerProps      json.RawMessage // JSON object: the trigger event's props (+ name, url), template values; nil: {}
	CancelKey         string          // "" none; CancelPending cancels rows by it
	DueAt             time.Time
	NotAfter          time.Time // zero: none
	State             string
	Reason            string
	Attempts          int
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// Outcome is what the dispatcher did with a claimed send: a final State
// with its Reason, or State pending with DueAt to hold it until then.
type Outcome struct {
	ID     string
	State  string
	Reason string
	DueAt  time.Time // with State pending: when to try again
}

const scheduledColumns = `id::text, site_id::text, subscriber_id, source, coalesce(automation_id::text, ''),
	coalesce(automation_version, 0), coalesce(step, 0), coalesce(campaign_id::text, ''), coalesce(variant, ''),
	trigger_event_id, trigger_props, cancel_key, due_at, not_after, state, reason, attempts, created_at, updated_at`

func scanScheduled(row pgx.Row) (ScheduledSend, error) {
	var r ScheduledSend
	var props []byte
	var notAfter *time.Time
	err := row.Scan(&r.ID, &r.SiteID, &r.SubscriberID, &r.Source, &r.AutomationID, &r.AutomationVersion, &r.Step,
		&r.CampaignID, &r.Variant, &r.TriggerEventID, &props, &r.CancelKey, &r.DueAt, &notAfter, &r.State, &r.Reason,
		&r.Attempts, &r.CreatedAt, &r.UpdatedAt)
	if err != nil {
		return ScheduledSend{}, err
	}
	r.NotAfter = deref(notAfter)
	r.TriggerProps = props
	return r, nil
}

// nullString is nil for "".
func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// InsertScheduled stores pending sends; a row whose id exists already is
// left as it is (ON CONFLICT DO NOTHING), so a replayed trigger or a
// restarted fan-out adds nothing twice. It returns the rows inserted.
func (s *Store) InsertScheduled(ctx context.Context, rows []ScheduledSend) (int, error) {
	if len(rows) == 0 {
		return 0, nil
	}
	batch := &pgx.Batch{}
	for _, r := range rows {
		if !validIDs(r.ID, r.SiteID) {
			return 0, fmt.Errorf("insert scheduled: id and site_id must be uuids: %q, %q", r.ID, r.SiteID)
		}
		props := string(r.TriggerProps)
		if len(r.TriggerProps) == 0 {
			props = "{}"
		}
		var version, step *int
		if r.Source == SourceAutomation {
			version, step = &r.AutomationVersion, &r.Step
		}
		batch.Queue(`INSERT INTO scheduled_sends (id, site_id, subscriber_id, source, automation_id, automation_version,
			step, campaign_id, variant, trigger_event_id, trigger_props, cancel_key, due_at, not_after)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT (id) DO NOTHING`,
			r.ID, r.SiteID, r.SubscriberID, r.Source, nullString(r.AutomationID), version, step,
			nullString(r.CampaignID), nullString(r.Variant), r.TriggerEventID, props, r.CancelKey, r.DueAt, nullTime(r.NotAfter))
	}
	inserted := 0
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		br := tx.SendBatch(ctx, batch)
		for range rows {
			tag, err := br.Exec()
			if err != nil {
				_ = br.Close()
				return err
			}
			inserted += int(tag.RowsAffected())
		}
		return br.Close()
	})
	if err != nil {
		return 0, fmt.Errorf("insert scheduled: %w", err)
	}
	return inserted, nil
}

// ClaimDue locks up to limit pending sends due at now (oldest first,
// skipping rows another dispatcher holds), passes them to fn, applies the
// outcomes fn returns and commits: two dispatchers never get the same row.
// A sent outcome also records the dispatch (sent_at = now) for the
// frequency cap. When fn fails nothing changes: the rows stay pending. It
// returns how many rows were claimed. With sites non-nil only those sites' rows are claimed (a dispatcher that
// acts for some sites never locks, nor waits behind, the others'); nil:
// every site.
func (s *Store) ClaimDue(ctx context.Context, now time.Time, limit int, sites []string,
	fn func(rows []ScheduledSend) ([]Outcome, error),
) (int, error) {
	query := `SELECT ` + scheduledColumns + ` FROM scheduled_sends WHERE state = 'pending' AND due_at <= $1`
	args := []any{now, limit}
	if sites != nil {
		query += ` AND site_id = ANY($3)`
		args = append(args, sites)
	}
	query += ` ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED`
	claimed := 0
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, query, args...)
		if err != nil {
			return err
		}
		due, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ScheduledSend, error) { return scanScheduled(row) })
		if err != nil || len(due) == 0 {
			return err
		}
		claimed = len(due)
		outcomes, err := fn(due)
		if err != nil {
			return err
		}
		return applyOutcomes(ctx, tx, now, due, outcomes)
	})
	if err != nil {
		return 0, fmt.Errorf("claim due sends: %w", err)
	}
	return claimed, nil
}

// ErrOutcome means an outcome names a row that was not claimed or a state
// that does not exist.
var ErrOutcome = errors.New("invalid outcome")

func applyOutcomes(ctx context.Context, tx pgx.Tx, now time.Time, due []ScheduledSend, outcomes []Outcome) error {
	byID := make(map[string]ScheduledSend, len(due))
	for _, r := range due {
		byID[r.ID] = r
	}
	batch := &pgx.Batch{}
	for _, o := range outcomes {
		row, ok := byID[o.ID]
		if !ok {
			return fmt.Errorf("%w: %s was not claimed", ErrOutcome, o.ID)
		}
		switch o.State {
		case SendPending:
			if o.DueAt.IsZero() {
				return fmt.Errorf("%w: %s held without a due time", ErrOutcome, o.ID)
			}
			batch.Queue(`UPDATE scheduled_sends SET due_at = $2, reason = $3, attempts = attempts + 1, updated_at = now()
				WHERE id = $1`, o.ID, o.DueAt, o.Reason)
		case SendSent, SendSkipped, SendHeldOut, SendCancelled:
			batch.Queue(`UPDATE scheduled_sends SET state = $2, reason = $3, attempts = attempts + 1, updated_at = now()
				WHERE id = $1`, o.ID, o.State, o.Reason)
		default:
			return fmt.Errorf("%w: state %q", ErrOutcome, o.State)
		}
		if o.State == SendSent {
			batch.Queue(`INSERT INTO dispatch_log (request_id, site_id, subscriber_id, sent_at) VALUES ($1, $2, $3, $4)
				ON CONFLICT (request_id) DO NOTHING`, row.ID, row.SiteID, row.SubscriberID, now)
		}
	}
	if batch.Len() == 0 {
		return nil
	}
	return tx.SendBatch(ctx, batch).Close()
}

// CancelPending cancels the pending sends with the cancel key (an absence
// trigger's follow-up event came in); it returns how many.
func (s *Store) CancelPending(ctx context.Context, cancelKey string) (int, error) {
	if cancelKey == "" {
		return 0, nil
	}
	tag, err := s.db.Exec(ctx, `UPDATE scheduled_sends SET state = 'cancelled', reason = 'cancelled_by_event', updated_at = now()
		WHERE state = 'pending' AND cancel_key = $1 AND cancel_key <> ''`, cancelKey)
	if err != nil {
		return 0, fmt.Errorf("cancel pending: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// SkipSeries marks the pending sends of one run of an automation (its
// subscriber and trigger event) skipped with reason: the series stops.
func (s *Store) SkipSeries(ctx context.Context, automationID, subscriberID, triggerEventID, reason string) (int, error) {
	if !validIDs(automationID) {
		return 0, nil
	}
	tag, err := s.db.Exec(ctx, `UPDATE scheduled_sends SET state = 'skipped', reason = $4, updated_at = now()
		WHERE automation_id = $1 AND subscriber_id = $2 AND trigger_event_id = $3 AND state = 'pending'`,
		automationID, subscriberID, triggerEventID, reason)
	if err != nil {
		return 0, fmt.Errorf("skip series: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// RecordDispatch notes that a push was produced for the subscriber at at,
// for the frequency cap; recording a request id twice keeps the first.
func (s *Store) RecordDispatch(ctx context.Context, requestID, siteID, subscriberID string, at time.Time) error {
	if !validIDs(requestID, siteID) {
		return fmt.Errorf("record dispatch: request and site ids must be uuids")
	}
	_, err := s.db.Exec(ctx, `INSERT INTO dispatch_log (request_id, site_id, subscriber_id, sent_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (request_id) DO NOTHING`, requestID, siteID, subscriberID, at)
	if err != nil {
		return fmt.Errorf("record dispatch: %w", err)
	}
	return nil
}

// RecentDispatches returns when pushes were produced for the subscriber
// after since, oldest first.
func (s *Store) RecentDispatches(ctx context.Context, siteID, subscriberID string, since time.Time) ([]time.Time, error) {
	if !validIDs(siteID) {
		return []time.Time{}, nil
	}
	rows, err := s.db.Query(ctx, `SELECT sent_at FROM dispatch_log WHERE site_id = $1 AND subscriber_id = $2 AND sent_at > $3
		ORDER BY sent_at`, siteID, subscriberID, since)
	if err != nil {
		return nil, fmt.Errorf("recent dispatches: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[time.Time])
	if err != nil {
		return nil, fmt.Errorf("recent dispatches: %w", err)
	}
	return out, nil
}

// EnterAutomation records that the subscriber enters the automation at at
// and reports whether that is allowed: the first entry always is, a later
// one only when the previous entry is at least cooldown old (cooldown 0:
// always). Check and write are one statement, so two concurrent triggers
// cannot both enter within the cooldown.
func (s *Store) EnterAutomation(ctx context.Context, automationID, subscriberID string, at time.Time, cooldown time.Duration) (bool, error) {
	if !validIDs(automationID) {
		return false, fmt.Errorf("enter automation: %w", ErrNotFound)
	}
	if cooldown <= 0 {
		_, err := s.db.Exec(ctx, `INSERT INTO automation_entries (automation_id, subscriber_id, entered_at) VALUES ($1, $2, $3)
			ON CONFLICT (automation_id, subscriber_id) DO UPDATE SET entered_at = greatest(automation_entries.entered_at, EXCLUDED.entered_at)`,
			automationID, subscriberID, at)
		if err != nil {
			return false, fmt.Errorf("enter automation: %w", segmentWriteError(err))
		}
		return true, nil
	}
	rows, err := s.db.Query(ctx, `INSERT INTO automation_entries (automation_id, subscriber_id, entered_at) VALUES ($1, $2, $3)
		ON CONFLICT (automation_id, subscriber_id) DO UPDATE SET entered_at = EXCLUDED.entered_at
		WHERE automation_entries.entered_at <= $4 RETURNING true`, automationID, subscriberID, at, at.Add(-cooldown))
	if err != nil {
		return false, fmt.Errorf("enter automation: %w", err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[bool])
	if err != nil {
		return false, fmt.Errorf("enter automation: %w", segmentWriteError(err))
	}
	return len(got) == 1, nil
}
