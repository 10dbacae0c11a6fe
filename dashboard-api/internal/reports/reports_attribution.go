package reports

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"golang.org/x/sync/errgroup"

	"github.com/pushpipe/pushpipe/schemas"
)

// By is how attribution rows are grouped.
type By string

// The groupings.
const (
	ByCampaign   By = "campaign"   // one row per campaign
	ByAutomation By = "automation" // one row per automation
	ByStep       By = "step"       // one row per automation step
	ByVariant    By = "variant"    // one row per campaign variant
)

// Groupings lists every By, in a stable order.
func Groupings() []By { return []By{ByCampaign, ByAutomation, ByStep, ByVariant} }

// Event types the reports read.
const (
	typeSent      = string(schemas.EventPushSent)
	typeHeldOut   = string(schemas.EventPushHeldOut) // produced by the dispatcher instead of a push
	typeClicked   = string(schemas.EventPushClicked)
	typeConverted = string(schemas.EventConversion)
)

// AttributionQuery asks for one site's attribution of the pushes sent, the
// clicks and the conversions in [From, To).
type AttributionQuery struct {
	SiteID   string
	From, To time.Time
	Window   time.Duration // the site's attribution window
	By       By
}

// Key names a row: the fields of its grouping, the others empty.
type Key struct {
	CampaignID, AutomationID, StepID, Variant string
}

// Row is the attribution of one group.
type Row struct {
	Key
	PushesSent          uint64  // push_sent events in the range
	Recipients          uint64  // distinct subscribers with a push_sent in the range
	RecipientsConverted uint64  // of them, those with a conversion within the window after a push_sent
	Clicks              uint64  // push_clicked events in the range
	ConversionsTotal    uint64  // attributed conversion events in the range
	ConversionsUnique   uint64  // distinct subscribers among them
	Revenue             float64 // sum of their revenue
	Holdout             Holdout
}

// Holdout is the held-out side of a group.
type Holdout struct {
	Members           uint64 // distinct subscribers with a push_held_out in the range
	ConversionsUnique uint64 // of them, those with a conversion within the window after being held out
}

// ClickHouse answers report queries from the events table.
type ClickHouse struct{ conn driver.Conn }

// NewClickHouse queries through conn.
func NewClickHouse(conn driver.Conn) *ClickHouse { return &ClickHouse{conn: conn} }

// Attribution runs the three attribution queries concurrently and joins
// their rows by key, ordered by key.
func (c *ClickHouse) Attribution(ctx context.Context, q AttributionQuery) ([]Row, error) {
	keys, ok := groupKeys[q.By]
	if !ok {
		return nil, fmt.Errorf("attribution: unknown grouping %q", q.By)
	}
	rows := map[Key]*Row{}
	var exposures, clicks, convs []Row
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { exposures, err = c.exposures(gctx, q, keys); return err })
	g.Go(func() (err error) { clicks, err = c.clicks(gctx, q, keys); return err })
	g.Go(func() (err error) { convs, err = c.conversions(gctx, q, keys); return err })
	if err := g.Wait(); err != nil {
		return nil, err
	}
	get := func(k Key) *Row {
		if r, ok := rows[k]; ok {
			return r
		}
		r := &Row{Key: k}
		rows[k] = r
		return r
	}
	for _, e := range exposures {
		r := get(e.Key)
		r.PushesSent, r.Recipients, r.RecipientsConverted, r.Holdout = e.PushesSent, e.Recipients, e.RecipientsConverted, e.Holdout
	}
	for _, e := range clicks {
		get(e.Key).Clicks = e.Clicks
	}
	for _, e := range convs {
		r := get(e.Key)
		r.ConversionsTotal, r.ConversionsUnique, r.Revenue = e.ConversionsTotal, e.ConversionsUnique, e.Revenue
	}
	out := make([]Row, 0, len(rows))
	for _, r := range rows {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return lessKey(out[i].Key, out[j].Key) })
	return out, nil
}

func lessKey(a, b Key) bool {
	if a.CampaignID != b.CampaignID {
		return a.CampaignID < b.CampaignID
	}
	if a.AutomationID != b.AutomationID {
		return a.AutomationID < b.AutomationID
	}
	if a.StepID != b.StepID {
		return a.StepID < b.StepID
	}
	return a.Variant < b.Variant
}

// grouping is how one By selects its key columns from a source with the
// columns c (campaign), a (automation), s (step) and v (variant).
type grouping struct {
	cols   string // k_campaign, k_automation, k_step, k_variant
	filter string // rows that belong to some group
}

var groupKeys = map[By]grouping{
	ByCampaign:   {`c AS k_campaign, '' AS k_automation, '' AS k_step, '' AS k_variant`, `c != ''`},
	ByAutomation: {`'' AS k_campaign, a AS k_automation, '' AS k_step, '' AS k_variant`, `a != ''`},
	ByStep:       {`'' AS k_campaign, a AS k_automation, s AS k_step, '' AS k_variant`, `a != ''`},
	ByVariant:    {`c AS k_campaign, '' AS k_automation, '' AS k_step, v AS k_variant`, `c != ''`},
}

const groupBy = ` GROUP BY k_campaign, k_automation, k_step, k_variant`

// params are the bound parameters every attribution query takes.
func params(q AttributionQuery) []any {
	return []any{
		clickhouse.Named("site", q.SiteID),
		clickhouse.Named("from", q.From.UnixMilli()),
		clickhouse.Named("to", q.To.UnixMilli()),
		clickhouse.Named("window", q.Window.Milliseconds()),
		clickhouse.Named("sent", typeSent),
		clickhouse.Named("held", typeHeldOut),
		clickhouse.Named("clicked", typeClicked),
		clickhouse.Named("converted", typeConverted),
	}
}

// exposures counts the pushes sent and the subscribers held out in the
// range, and those of each who converted within the window after.
func (c *ClickHouse) exposures(ctx context.Context, q AttributionQuery, g grouping) ([]Row, error) {
	query := `WITH conv AS (
			SELECT subscriber_id, groupArray(toUnixTimestamp64Milli(time)) AS ts FROM events
			WHERE site_id = {site:String} AND type = {converted:String}
			  AND time >= fromUnixTimestamp64Milli({from:Int64}, 'UTC')
			  AND time <= fromUnixTimestamp64Milli({to:Int64} + {window:Int64}, 'UTC')
			GROUP BY subscriber_id)
		SELECT ` + g.cols + `,
			countIf(type = {sent:String}),
			uniqExactIf(subscriber_id, type = {sent:String}),
			uniqExactIf(subscriber_id, type = {sent:String} AND converted),
			uniqExactIf(subscriber_id, type = {held:String}),
			uniqExactIf(subscriber_id, type = {held:String} AND converted)
		FROM (
			SELECT e.type AS type, e.subscriber_id AS subscriber_id, e.c AS c, e.a AS a, e.s AS s, e.v AS v,
				arrayExists(t -> t >= e.ms AND t <= e.ms + {window:Int64}, conv.ts) AS converted
			FROM (
				SELECT type, subscriber_id, toUnixTimestamp64Milli(time) AS ms,
					campaign_id AS c, automation_id AS a, props['step_id'] AS s, props['variant'] AS v
				FROM events
				WHERE site_id = {site:String} AND type IN ({sent:String}, {held:String})
				  AND time >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND time < fromUnixTimestamp64Milli({to:Int64}, 'UTC')
			) AS e
			LEFT JOIN conv ON conv.subscriber_id = e.subscriber_id
		)
		WHERE ` + g.filter + groupBy
	return c.groups(ctx, "attribution exposures", query, params(q), func(r *Row) []any {
		return []any{&r.PushesSent, &r.Recipients, &r.RecipientsConverted, &r.Holdout.Members, &r.Holdout.ConversionsUnique}
	})
}

// clicksWithMeta: clicks is the site's clicks from one window before the
// range to its end, meta the campaign, automation, step and variant of every
// clicked push from its push_sent (push_sent_meta, migration 0006: the
// push_sent events by push id, without the props map), and attributed the
// clicks with them (falling back to the click's own ids; any one row of the
// push, as a row may be stored twice: see the migration). The push_sent is
// looked up by push id alone, at any time, as on the events: in push id
// order a time bound would skip nothing.
const clicksWithMeta = `WITH clicks AS (
		SELECT subscriber_id, toUnixTimestamp64Milli(time) AS ms, push_id, campaign_id AS cc, automation_id AS ca
		FROM events
		WHERE site_id = {site:String} AND type = {clicked:String} AND push_id != ''
		  AND time >= fromUnixTimestamp64Milli({from:Int64} - {window:Int64}, 'UTC')
		  AND time < fromUnixTimestamp64Milli({to:Int64}, 'UTC')),
	meta AS (
		SELECT push_id, campaign_id AS mc, automation_id AS ma, step_id AS ms_, variant AS mv
		FROM push_sent_meta
		WHERE site_id = {site:String} AND push_id IN (SELECT push_id FROM clicks)),
	attributed AS (
		SELECT clicks.subscriber_id AS subscriber_id, clicks.ms AS ms, clicks.push_id AS push_id,
			if(meta.mc != '', meta.mc, clicks.cc) AS c, if(meta.ma != '', meta.ma, clicks.ca) AS a, meta.ms_ AS s, meta.mv AS v
		FROM clicks ANY LEFT JOIN meta ON meta.push_id = clicks.push_id)
	`

// clicks counts the clicks in the range by the group of their push.
func (c *ClickHouse) clicks(ctx context.Context, q AttributionQuery, g grouping) ([]Row, error) {
	query := clicksWithMeta + `SELECT ` + g.cols + `, count() FROM attributed
		WHERE ms >= {from:Int64} AND ` + g.filter + groupBy
	return c.groups(ctx, "attribution clicks", query, params(q), func(r *Row) []any { return []any{&r.Clicks} })
}

// conversions attributes each conversion in the range to the last click of
// the same subscriber at or before it, within the window.
func (c *ClickHouse) conversions(ctx context.Context, q AttributionQuery, g grouping) ([]Row, error) {
	query := clicksWithMeta + `SELECT ` + g.cols + `, count(), uniqExact(subscriber_id), sum(revenue)
		FROM (
			SELECT cv.subscriber_id AS subscriber_id, cv.revenue AS revenue, cl.c AS c, cl.a AS a, cl.s AS s, cl.v AS v
			FROM (
				SELECT subscriber_id, toUnixTimestamp64Milli(time) AS ms, revenue FROM events
				WHERE site_id = {site:String} AND type = {converted:String}
				  AND time >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND time < fromUnixTimestamp64Milli({to:Int64}, 'UTC')
			) AS cv
			ASOF JOIN attributed AS cl ON cv.subscriber_id = cl.subscriber_id AND cv.ms >= cl.ms
			WHERE cv.ms <= cl.ms + {window:Int64}
		)
		WHERE ` + g.filter + groupBy
	return c.groups(ctx, "attribution conversions", query, params(q), func(r *Row) []any {
		return []any{&r.ConversionsTotal, &r.ConversionsUnique, &r.Revenue}
	})
}

// groups runs a grouped query whose first four columns are the key and the
// rest what dest points into.
func (c *ClickHouse) groups(ctx context.Context, what, query string, args []any, dest func(*Row) []any) ([]Row, error) {
	rows, err := c.conn.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", what, err)
	}
	defer func() { _ = rows.Close() }()
	var out []Row
	for rows.Next() {
		var r Row
		ptrs := append([]any{&r.CampaignID, &r.AutomationID, &r.StepID, &r.Variant}, dest(&r)...)
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("read %s: %w", what, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	return out, nil
}
