package automate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pushpipe/pushpipe/internal/automation"
	"github.com/pushpipe/pushpipe/internal/controlplane"
)

// Campaign statuses.
const (
	campaignSending   = controlplane.CampaignSending
	campaignDone      = controlplane.CampaignDone
	campaignCancelled = controlplane.CampaignCancelled
)

// campaignPoll is how often campaigns to start, and the completion of
// campaigns being sent, are looked at.
const campaignPoll = time.Second

// errCancelled stops a fan-out whose campaign was cancelled meanwhile.
var errCancelled = errors.New("campaign cancelled")

// campaigns starts the campaigns whose time came and marks done those sent
// completely, until ctx ends.
func (r *Runtime) campaigns(ctx context.Context) {
	sending := map[string]string{} // campaign id -> site, fanned out by this process
	for sleep(ctx, campaignPoll) {
		due, err := r.deps.Store.CampaignsToStart(ctx, r.now())
		if err != nil {
			r.log.Warn("campaigns to start not read", "err", err)
		}
		for _, c := range due {
			if !r.owns(c.SiteID) {
				continue
			}
			total, err := r.fanOut(ctx, c)
			switch {
			case errors.Is(err, errCancelled):
				r.log.Info("campaign cancelled during its fan-out", "site", c.SiteID, "campaign", c.ID, "rows", total)
			case err != nil:
				r.log.Warn("campaign fan-out failed; retrying", "site", c.SiteID, "campaign", c.ID, "err", err)
			default:
				r.log.Info("campaign fanned out", "site", c.SiteID, "campaign", c.ID, "rows", total)
				sending[c.ID] = c.SiteID
			}
		}
		r.finish(ctx, sending)
	}
}

// finish marks done the campaigns being sent that have no pending row left:
// those this process fanned out and those whose rows its dispatcher saw
// (after a restart).
func (r *Runtime) finish(ctx context.Context, sending map[string]string) {
	for id, site := range r.dispatch.activeCampaigns() {
		sending[id] = site
	}
	for id, site := range sending {
		done, err := r.sent(ctx, site, id)
		if err != nil {
			r.log.Warn("campaign completion not checked", "campaign", id, "err", err)
			continue
		}
		if done {
			delete(sending, id)
		}
	}
}

// sent marks the campaign done when it is sending and no row of it is
// pending; it reports whether the campaign needs no more looking at.
func (r *Runtime) sent(ctx context.Context, site, id string) (bool, error) {
	c, err := r.deps.Store.Campaign(ctx, site, id)
	if err != nil {
		return false, fmt.Errorf("read campaign: %w", err)
	}
	if c.Status != campaignSending {
		return c.Status == campaignDone || c.Status == campaignCancelled, nil
	}
	p, err := r.deps.Store.CampaignProgress(ctx, site, id)
	if err != nil || p.Pending > 0 {
		return false, err
	}
	if err := r.deps.Store.MarkCampaign(ctx, id, campaignDone, p.Total); err != nil && !errors.Is(err, controlplane.ErrState) {
		return false, fmt.Errorf("mark campaign done: %w", err)
	}
	return true, nil
}

// fanOut creates the rows of every member of c, page by page, then marks
// it sending with its total. The rows' ids are deterministic, so a fan-out
// interrupted by a restart is done again (the campaign is still scheduled)
// without creating a row twice.
func (r *Runtime) fanOut(ctx context.Context, c controlplane.Campaign) (int, error) {
	def, problems := automation.ParseCampaign(c.Definition)
	if len(problems) > 0 {
		err := r.deps.Store.MarkCampaign(ctx, c.ID, campaignCancelled, 0)
		return 0, errors.Join(fmt.Errorf("campaign %s does not parse: %v", c.ID, problems), err)
	}
	settings, err := r.deps.Store.SitePolicy(ctx, c.SiteID)
	if err != nil {
		return 0, fmt.Errorf("read site policy: %w", err)
	}
	plan := newFanPlan(c.ID, def, r.now(), settings.Policy.DefaultTimezone)
	aud := Audience{Site: c.SiteID, Include: def.Include, Exclude: def.Exclude}
	total, after := 0, ""
	for {
		members, err := r.deps.Lookup.Members(ctx, aud, after, r.cfg.Page)
		if err != nil {
			return total, err
		}
		if len(members) == 0 {
			break
		}
		rows := plan.rows(c, members, total)
		if _, err := r.deps.Store.InsertScheduled(ctx, rows); err != nil {
			return total, fmt.Errorf("insert campaign rows: %w", err)
		}
		total += len(rows)
		r.stats.fanned.Add(int64(len(rows)))
		r.dispatch.wake()
		after = members[len(members)-1].ID
		if now, err := r.deps.Store.Campaign(ctx, c.SiteID, c.ID); err == nil && now.Status == campaignCancelled {
			return total, errCancelled
		}
	}
	err = r.deps.Store.MarkCampaign(ctx, c.ID, campaignSending, total)
	if errors.Is(err, controlplane.ErrState) {
		return total, errCancelled
	}
	if err != nil {
		return total, fmt.Errorf("mark campaign sending: %w", err)
	}
	return total, nil
}

// fanPlan computes the rows of a campaign's members.
type fanPlan struct {
	id       string
	def      automation.Campaign
	now      time.Time
	interval time.Duration  // between consecutive members when throttled
	fallback *time.Location // for members without a (valid) timezone
}

func newFanPlan(id string, def automation.Campaign, now time.Time, defaultTZ string) *fanPlan {
	p := &fanPlan{id: id, def: def, now: now, fallback: loadLocation(defaultTZ, time.UTC)}
	if def.ThrottlePerMinute > 0 {
		p.interval = time.Minute / time.Duration(def.ThrottlePerMinute)
	}
	return p
}

// rows are the scheduled sends of one page of members; offset is how many
// members came before (the throttle spaces them all).
func (p *fanPlan) rows(c controlplane.Campaign, members []Member, offset int) []controlplane.ScheduledSend {
	rows := make([]controlplane.ScheduledSend, 0, len(members))
	for i, m := range members {
		variant := p.def.Variants[automation.PickVariant(p.id, m.ID, p.def.Variants)].Name
		due := p.due(m, offset+i)
		rows = append(rows, controlplane.ScheduledSend{
			ID: automation.CampaignRequestID(p.id, variant, m.ID), SiteID: c.SiteID, SubscriberID: m.ID,
			Source: sourceCampaign, CampaignID: p.id, Variant: variant,
			DueAt: due, NotAfter: due.Add(sendLifetime),
		})
	}
	return rows
}

// due is when the i-th member m gets the campaign: the schedule's send
// time in m's timezone (automation.Schedule.SendTime), plus i throttle
// intervals.
func (p *fanPlan) due(m Member, i int) time.Time {
	at := p.def.Schedule.SendTime(p.now, loadLocation(m.Timezone, p.fallback))
	return at.Add(time.Duration(i) * p.interval).UTC()
}

// loadLocation loads an IANA timezone, or gives fallback.
func loadLocation(name string, fallback *time.Location) *time.Location {
	if strings.TrimSpace(name) == "" {
		return fallback
	}
	loc, err := automation.LoadLocation(name)
	if err != nil {
		return fallback
	}
	return loc
}
