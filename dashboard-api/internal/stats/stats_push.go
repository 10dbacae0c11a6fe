package stats

import (
	"context"
	"fmt"
	"sort"

	"github.com/ClickHouse/clickhouse-go/v2"
	"golang.org/x/sync/errgroup"
)

// PushKind is whose pushes a performance query reads.
type PushKind string

// The kinds of pushes.
const (
	Campaigns   PushKind = "campaign"   // one row per campaign and variant
	Automations PushKind = "automation" // one row per automation and step
)

// pushGroups are the SQL of each kind: its key columns (campaign,
// automation, step, variant) and the rows that belong to it.
var pushGroups = map[PushKind]struct{ cols, filter string }{
	Campaigns:   {`c AS k_c, '' AS k_a, '' AS k_s, v AS k_v`, `campaign_id != ''`},
	Automations: {`'' AS k_c, a AS k_a, s AS k_s, '' AS k_v`, `automation_id != ''`},
}

// PushQuery asks for the delivery performance of one site's campaigns or
// automations in a range; ID, when set, is the one campaign or automation.
type PushQuery struct {
	OverviewQuery
	Kind PushKind
	ID   string
}

// PushRow is the delivery funnel of one campaign variant or automation step:
// events counted in the range, failures by the sender's reason.
type PushRow struct {
	CampaignID, AutomationID, StepID, Variant string
	Sent, Delivered, Clicked, Closed, Failed  uint64
	Failures                                  map[string]uint64
}

// PushPerformance counts push_sent, push_delivered, push_clicked,
// push_closed and push_failed in the range. The sender's events carry the
// step and variant; the browser's (delivered, clicked, closed) only the push
// id and the campaign or automation, so they take the step and variant of
// the push_sent of the same push id (sent at most 30 days before the
// range), looked up in push_sent_meta (push id order, no props map) rather
// than by grouping every push event of the site by push id: at 10 M events
// that was ~3x the time. The two queries run concurrently.
func (c *ClickHouse) PushPerformance(ctx context.Context, q PushQuery) ([]PushRow, error) {
	g, ok := pushGroups[q.Kind]
	if !ok {
		return nil, fmt.Errorf("push performance: unknown kind %q", q.Kind)
	}
	var sender, browser []pushCount
	eg, ectx := errgroup.WithContext(ctx)
	eg.Go(func() (err error) { sender, err = c.pushCounts(ectx, q, senderCounts(g.cols, g.filter)); return err })
	eg.Go(func() (err error) { browser, err = c.pushCounts(ectx, q, browserCounts(g.cols, g.filter)); return err })
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	byKey := map[[4]string]*PushRow{}
	for _, n := range append(sender, browser...) {
		r, ok := byKey[n.key]
		if !ok {
			r = &PushRow{CampaignID: n.key[0], AutomationID: n.key[1], StepID: n.key[2], Variant: n.key[3], Failures: map[string]uint64{}}
			byKey[n.key] = r
		}
		r.Sent, r.Delivered, r.Clicked, r.Closed, r.Failed = r.Sent+n.sent, r.Delivered+n.delivered, r.Clicked+n.clicked, r.Closed+n.closed, r.Failed+n.failed
		if n.failed > 0 {
			r.Failures[n.reason] += n.failed
		}
	}
	out := make([]PushRow, 0, len(byKey))
	for _, r := range byKey {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].sortKey() < out[j].sortKey() })
	return out, nil
}

// pushWhere scopes the push events of a performance query: the site, the
// kind's rows, the one campaign or automation when asked.
const pushWhere = `site_id = {site:String} AND ({id:String} = '' OR campaign_id = {id:String} OR automation_id = {id:String})`

// senderCounts is the query of the sender's events, which carry their own
// step, variant and failure reason.
func senderCounts(cols, filter string) string {
	return `SELECT ` + cols + `, r, countIf(type = 'push_sent'), toUInt64(0), toUInt64(0), toUInt64(0), countIf(type = 'push_failed')
	FROM (
		SELECT type, campaign_id AS c, automation_id AS a, props['step_id'] AS s, props['variant'] AS v,
			if(type = 'push_failed', reason, '') AS r
		FROM events
		WHERE ` + pushWhere + ` AND ` + filter + ` AND type IN ('push_sent', 'push_failed')
		  AND time >= {from:DateTime64(3)} AND time < {to:DateTime64(3)})
	GROUP BY k_c, k_a, k_s, k_v, r`
}

// browserCounts is the query of the browser's events: each in the range
// counted by the group of its push, the step and variant from the push's
// push_sent (sent at most 30 days before the range) in push_sent_meta
// (migration 0006: the push_sent events by push id, without the props
// map), any one of its rows.
func browserCounts(cols, filter string) string {
	return `SELECT ` + cols + `, '' AS r, toUInt64(0), countIf(type = 'push_delivered'), countIf(type = 'push_clicked'),
		countIf(type = 'push_closed'), toUInt64(0)
	FROM (
		SELECT b.type AS type, b.campaign_id AS c, b.automation_id AS a, m.step_id AS s, m.variant AS v
		FROM (
			SELECT push_id, type, campaign_id, automation_id
			FROM events
			WHERE ` + pushWhere + ` AND ` + filter + ` AND push_id != ''
			  AND type IN ('push_delivered', 'push_clicked', 'push_closed')
			  AND time >= {from:DateTime64(3)} AND time < {to:DateTime64(3)}) AS b
		ANY LEFT JOIN (
			SELECT push_id, step_id, variant
			FROM push_sent_meta
			WHERE ` + pushWhere + ` AND ` + filter + `
			  AND time >= {from:DateTime64(3)} - INTERVAL 30 DAY AND time < {to:DateTime64(3)}) AS m ON m.push_id = b.push_id)
	GROUP BY k_c, k_a, k_s, k_v`
}

// pushCount is one row of senderCounts or browserCounts.
type pushCount struct {
	key                                      [4]string
	reason                                   string
	sent, delivered, clicked, closed, failed uint64
}

func (c *ClickHouse) pushCounts(ctx context.Context, q PushQuery, query string) ([]pushCount, error) {
	args := append(rangeParams(q.OverviewQuery), clickhouse.Named("id", q.ID))
	rows, err := c.conn.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query push performance: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []pushCount
	for rows.Next() {
		var n pushCount
		if err := rows.Scan(&n.key[0], &n.key[1], &n.key[2], &n.key[3], &n.reason, &n.sent, &n.delivered, &n.clicked, &n.closed, &n.failed); err != nil {
			return nil, fmt.Errorf("read push performance: %w", err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read push performance: %w", err)
	}
	return out, nil
}

func (r PushRow) sortKey() string {
	return r.CampaignID + "\x00" + r.AutomationID + "\x00" + r.StepID + "\x00" + r.Variant
}
