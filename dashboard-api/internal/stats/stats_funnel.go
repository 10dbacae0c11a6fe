package stats

import (
	"context"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// FunnelBy is how the opt-in funnel is broken down.
type FunnelBy string

// The breakdowns of the opt-in funnel.
const (
	FunnelByVariant FunnelBy = "variant" // the prompt variant
	FunnelByBrowser FunnelBy = "browser"
	FunnelByCountry FunnelBy = "country"
	FunnelByPage    FunnelBy = "page" // the path of the page the prompt was shown on
)

// FunnelBreakdowns lists every FunnelBy, in a stable order.
func FunnelBreakdowns() []FunnelBy {
	return []FunnelBy{FunnelByVariant, FunnelByBrowser, FunnelByCountry, FunnelByPage}
}

// funnelKeys are the SQL of each breakdown's key: fixed strings, never user input.
var funnelKeys = map[FunnelBy]string{
	FunnelByVariant: `toString(prompt_variant)`,
	FunnelByBrowser: `toString(browser)`,
	FunnelByCountry: `toString(country)`,
	FunnelByPage:    `path(url)`,
}

// FunnelQuery asks for the opt-in funnel of one site in a range, broken
// down by By, at most Limit rows (the most prompts first).
type FunnelQuery struct {
	OverviewQuery
	By    FunnelBy
	Limit int
}

// FunnelRow is the opt-in funnel of one key (all of the range when Key is
// the total): prompts shown and their outcomes, counted as events.
type FunnelRow struct {
	Key                               string
	Shown, Allowed, Denied, Dismissed uint64
}

// Funnel is the funnel's total and its breakdown.
type Funnel struct {
	Total FunnelRow
	Rows  []FunnelRow
}

// Funnel counts the opt-in events of the range: the total, and the top
// Limit keys of the breakdown by prompts shown.
func (c *ClickHouse) Funnel(ctx context.Context, q FunnelQuery) (Funnel, error) {
	key, ok := funnelKeys[q.By]
	if !ok {
		return Funnel{}, fmt.Errorf("funnel: unknown breakdown %q", q.By)
	}
	query := `SELECT ` + key + ` AS k,
		countIf(type = 'optin_prompt_shown'), countIf(type = 'optin_allowed'),
		countIf(type = 'optin_denied'), countIf(type = 'optin_dismissed')
	FROM events
	WHERE ` + rangeWhere + ` AND type IN ('optin_prompt_shown', 'optin_allowed', 'optin_denied', 'optin_dismissed')
	GROUP BY k WITH TOTALS ORDER BY 2 DESC, k LIMIT {limit:UInt32}`
	args := append(rangeParams(q.OverviewQuery), clickhouse.Named("limit", uint32(max(q.Limit, 1))))
	rows, err := c.conn.Query(ctx, query, args...)
	if err != nil {
		return Funnel{}, fmt.Errorf("query opt-in funnel: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var f Funnel
	for rows.Next() {
		var r FunnelRow
		if err := rows.Scan(&r.Key, &r.Shown, &r.Allowed, &r.Denied, &r.Dismissed); err != nil {
			return Funnel{}, fmt.Errorf("read opt-in funnel: %w", err)
		}
		f.Rows = append(f.Rows, r)
	}
	if err := rows.Err(); err != nil {
		return Funnel{}, fmt.Errorf("read opt-in funnel: %w", err)
	}
	if err := rows.Totals(&f.Total.Key, &f.Total.Shown, &f.Total.Allowed, &f.Total.Denied, &f.Total.Dismissed); err != nil {
		return Funnel{}, fmt.Errorf("read opt-in funnel totals: %w", err)
	}
	f.Total.Key = ""
	return f, nil
}
