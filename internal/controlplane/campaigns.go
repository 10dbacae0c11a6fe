package controlplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Campaign statuses: draft → scheduled → sending → done, or cancelled.
const (
	CampaignDraft     = "draft"
	CampaignScheduled = "scheduled"
	CampaignSending   = "sending"
	CampaignDone      = "done"
	CampaignCancelled = "cancelled"
)

// ErrState means the campaign's status does not allow the change.
var ErrState = errors.New("not allowed in the campaign's current status")

// Campaign is a stored campaign. Definition is the JSON form of
// automation.Campaign; SendAt is its schedule.at (zero: as soon as it is
// scheduled).
type Campaign struct {
	ID         string
	SiteID     string
	Name       string
	Definition json.RawMessage
	Status     string
	SendAt     time.Time
	Total      int // rows the fan-out created
	CreatedAt  time.Time
	UpdatedAt  time.Time
	StartedAt  time.Time // zero: not started
	FinishedAt time.Time // zero: not finished
}

// NewCampaign is what creating or replacing a campaign writes.
type NewCampaign struct {
	Name       string
	Definition json.RawMessage
}

// Progress counts a campaign's scheduled sends by state.
type Progress struct {
	Total     int `json:"total"`
	Pending   int `json:"pending"`
	Sent      int `json:"sent"`
	Skipped   int `json:"skipped"`
	HeldOut   int `json:"held_out"`
	Cancelled int `json:"cancelled"`
}

const campaignColumns = `id::text, site_id::text, name, definition, status, send_at, total, created_at, updated_at, started_at, finished_at`

func scanCampaign(row pgx.Row) (Campaign, error) {
	var c Campaign
	var def []byte
	var sendAt, started, finished *time.Time
	err := row.Scan(&c.ID, &c.SiteID, &c.Name, &def, &c.Status, &sendAt, &c.Total, &c.CreatedAt, &c.UpdatedAt, &started, &finished)
	if errors.Is(err, pgx.ErrNoRows) {
		return Campaign{}, ErrNotFound
	}
	c.Definition = def
	c.SendAt, c.StartedAt, c.FinishedAt = deref(sendAt), deref(started), deref(finished)
	return c, err
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// nullTime is nil for the zero time.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// sendAt reads schedule.at of a campaign definition; the rest is not read here.
func sendAt(def json.RawMessage) (*time.Time, error) {
	var d struct {
		Schedule struct {
			At time.Time `json:"at"`
		} `json:"schedule"`
	}
	if err := json.Unmarshal(def, &d); err != nil {
		return nil, fmt.Errorf("read schedule.at: %w", err)
	}
	return nullTime(d.Schedule.At), nil
}

// CreateCampaign stores a new draft campaign of the site.
func (s *Store) CreateCampaign(ctx context.Context, siteID string, in NewCampaign) (Campaign, error) {
	if !validIDs(siteID) {
		return Campaign{}, fmt.Errorf("create campaign: %w", ErrNotFound)
	}
	at, err := sendAt(in.Definition)
	if err != nil {
		return Campaign{}, fmt.Errorf("create campaign: %w", err)
	}
	c, err := scanCampaign(s.db.QueryRow(ctx, `INSERT INTO campaigns (site_id, name, definition, send_at)
		VALUES ($1, $2, $3, $4) RETURNING `+campaignColumns, siteID, in.Name, string(in.Definition), at))
	if err != nil {
		return Campaign{}, fmt.Errorf("create campaign: %w", segmentWriteError(err))
	}
	return c, nil
}

// Campaign returns a campaign of the site.
func (s *Store) Campaign(ctx context.Context, siteID, id string) (Campaign, error) {
	if !validIDs(siteID, id) {
		return Campaign{}, fmt.Errorf("campaign: %w", ErrNotFound)
	}
	c, err := scanCampaign(s.db.QueryRow(ctx, `SELECT `+campaignColumns+` FROM campaigns WHERE site_id = $1 AND id = $2`, siteID, id))
	if err != nil {
		return Campaign{}, fmt.Errorf("campaign: %w", err)
	}
	return c, nil
}

// Campaigns returns the campaigns of the site, newest first.
func (s *Store) Campaigns(ctx context.Context, siteID string) ([]Campaign, error) {
	if !validIDs(siteID) {
		return []Campaign{}, nil
	}
	return s.queryCampaigns(ctx, "campaigns", `SELECT `+campaignColumns+` FROM campaigns
		WHERE site_id = $1 ORDER BY created_at DESC, id`, siteID)
}

// CampaignsToStart returns the scheduled campaigns of every site whose
// send time has come (or that have none), oldest first.
func (s *Store) CampaignsToStart(ctx context.Context, now time.Time) ([]Campaign, error) {
	return s.queryCampaigns(ctx, "campaigns to start", `SELECT `+campaignColumns+` FROM campaigns
		WHERE status = 'scheduled' AND (send_at IS NULL OR send_at <= $1) ORDER BY coalesce(send_at, created_at), id`, now)
}

func (s *Store) queryCampaigns(ctx context.Context, what, query string, args ...any) ([]Campaign, error) {
	rows, err := s.db.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	out := []Campaign{}
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// UpdateCampaign replaces the name and definition of a draft or scheduled
// campaign; any other status fails with ErrState.
func (s *Store) UpdateCampaign(ctx context.Context, siteID, id string, in NewCampaign) (Campaign, error) {
	at, err := sendAt(in.Definition)
	if err != nil {
		return Campaign{}, fmt.Errorf("update campaign: %w", err)
	}
	return s.changeCampaign(ctx, "update campaign", siteID, id, []string{CampaignDraft, CampaignScheduled}, nil,
		`UPDATE campaigns SET name = $3, definition = $4, send_at = $5, updated_at = now()
		WHERE site_id = $1 AND id = $2 RETURNING `+campaignColumns, in.Name, string(in.Definition), at)
}

// ScheduleCampaign moves a draft campaign to scheduled: it starts at its
// send time.
func (s *Store) ScheduleCampaign(ctx context.Context, siteID, id string) (Campaign, error) {
	return s.changeCampaign(ctx, "schedule campaign", siteID, id, []string{CampaignDraft}, nil,
		`UPDATE campaigns SET status = 'scheduled', updated_at = now()
		WHERE site_id = $1 AND id = $2 RETURNING `+campaignColumns)
}

// CancelCampaign cancels a campaign that is not done, with its pending
// sends; cancelling a cancelled campaign changes nothing.
func (s *Store) CancelCampaign(ctx context.Context, siteID, id string) (Campaign, error) {
	cancelSends := func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE scheduled_sends SET state = 'cancelled', reason = 'campaign_cancelled', updated_at = now()
			WHERE campaign_id = $1 AND site_id = $2 AND state = 'pending'`, id, siteID)
		return err
	}
	return s.changeCampaign(ctx, "cancel campaign", siteID, id,
		[]string{CampaignDraft, CampaignScheduled, CampaignSending, CampaignCancelled}, cancelSends,
		`UPDATE campaigns SET status = 'cancelled', updated_at = now(), finished_at = coalesce(finished_at, now())
		WHERE site_id = $1 AND id = $2 RETURNING `+campaignColumns)
}

// DeleteCampaign deletes a draft campaign; any other status is ErrState
// (cancel it instead: its rows and results stay).
func (s *Store) DeleteCampaign(ctx context.Context, siteID, id string) error {
	if !validIDs(siteID, id) {
		return fmt.Errorf("delete campaign: %w", ErrNotFound)
	}
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		if err := lockCampaign(ctx, tx, siteID, id, []string{CampaignDraft}); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM campaigns WHERE site_id = $1 AND id = $2`, siteID, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete campaign: %w", err)
	}
	return nil
}

// lockCampaign locks the campaign's row for the transaction and checks its
// status is one of allowed (ErrNotFound, ErrState).
func lockCampaign(ctx context.Context, tx pgx.Tx, siteID, id string, allowed []string) error {
	var status string
	err := tx.QueryRow(ctx, `SELECT status FROM campaigns WHERE site_id = $1 AND id = $2 FOR UPDATE`, siteID, id).Scan(&status)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return ErrNotFound
	case err != nil:
		return err
	case !contains(allowed, status):
		return ErrState
	}
	return nil
}

// changeCampaign runs update (with $1 site, $2 id, then args) when the
// campaign's status is one of allowed, then after (if any) in the same
// transaction.
func (s *Store) changeCampaign(ctx context.Context, what, siteID, id string, allowed []string,
	after func(context.Context, pgx.Tx) error, update string, args ...any,
) (Campaign, error) {
	if !validIDs(siteID, id) {
		return Campaign{}, fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	var out Campaign
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		if err := lockCampaign(ctx, tx, siteID, id, allowed); err != nil {
			return err
		}
		var err error
		if out, err = scanCampaign(tx.QueryRow(ctx, update, append([]any{siteID, id}, args...)...)); err != nil {
			return err
		}
		if after != nil {
			return after(ctx, tx)
		}
		return nil
	})
	if err != nil {
		return Campaign{}, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// MarkCampaign records the fan-out's progress: status sending (sets
// started_at once), done or cancelled (set finished_at), and the total of
// rows created. A cancelled campaign is never changed: ErrState tells the
// fan-out to stop.
func (s *Store) MarkCampaign(ctx context.Context, id, status string, total int) error {
	if !validIDs(id) {
		return fmt.Errorf("mark campaign: %w", ErrNotFound)
	}
	tag, err := s.db.Exec(ctx, `UPDATE campaigns SET status = $2, total = $3, updated_at = now(),
		started_at = CASE WHEN $2 = 'sending' THEN coalesce(started_at, now()) ELSE started_at END,
		finished_at = CASE WHEN $2 IN ('done', 'cancelled') THEN coalesce(finished_at, now()) ELSE finished_at END
		WHERE id = $1 AND status <> 'cancelled'`, id, status, total)
	if err != nil {
		return fmt.Errorf("mark campaign: %w", err)
	}
	if tag.RowsAffected() == 0 {
		if _, err := s.campaignStatus(ctx, id); err != nil {
			return fmt.Errorf("mark campaign: %w", err)
		}
		return fmt.Errorf("mark campaign: %w", ErrState)
	}
	return nil
}

func (s *Store) campaignStatus(ctx context.Context, id string) (string, error) {
	var status string
	err := s.db.QueryRow(ctx, `SELECT status FROM campaigns WHERE id = $1`, id).Scan(&status)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrNotFound
	}
	return status, err
}

// CampaignProgress counts the campaign's sends by state; Total is what
// the fan-out recorded.
func (s *Store) CampaignProgress(ctx context.Context, siteID, id string) (Progress, error) {
	c, err := s.Campaign(ctx, siteID, id)
	if err != nil {
		return Progress{}, fmt.Errorf("campaign progress: %w", errors.Unwrap(err))
	}
	p := Progress{Total: c.Total}
	rows, err := s.db.Query(ctx, `SELECT state, count(*) FROM scheduled_sends
		WHERE campaign_id = $1 AND site_id = $2 GROUP BY state`, id, siteID)
	if err != nil {
		return Progress{}, fmt.Errorf("campaign progress: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return Progress{}, fmt.Errorf("campaign progress: %w", err)
		}
		p.add(state, n)
	}
	if err := rows.Err(); err != nil {
		return Progress{}, fmt.Errorf("campaign progress: %w", err)
	}
	return p, nil
}

func (p *Progress) add(state string, n int) {
	switch state {
	case SendPending:
		p.Pending += n
	case SendSent:
		p.Sent += n
	case SendSkipped:
		p.Skipped += n
	case SendHeldOut:
		p.HeldOut += n
	case SendCancelled:
		p.Cancelled += n
	}
}
