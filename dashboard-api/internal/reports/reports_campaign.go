package reports

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/pushpipe/pushpipe/schemas"
)

// CampaignQuery asks for the delivery counts of one campaign of a site,
// from events at or after Since (the campaign's creation).
type CampaignQuery struct {
	SiteID     string
	CampaignID string
	Since      time.Time
}

// CampaignCounts are the distinct pushes of a campaign by outcome.
type CampaignCounts struct {
	Sent, Failed, Delivered, Clicked uint64
}

// sinceMargin widens Since for clicks and deliveries, whose time is the
// browser's (skew-corrected) clock.
const sinceMargin = time.Hour

// Campaign counts the distinct push ids of the campaign with a push_sent,
// push_failed, push_delivered and push_clicked event.
func (c *ClickHouse) Campaign(ctx context.Context, q CampaignQuery) (CampaignCounts, error) {
	var out CampaignCounts
	err := c.conn.QueryRow(ctx, `SELECT
			uniqExactIf(push_id, type = {sent:String}), uniqExactIf(push_id, type = {failed:String}),
			uniqExactIf(push_id, type = {delivered:String}), uniqExactIf(push_id, type = {clicked:String})
		FROM events
		WHERE site_id = {site:String} AND campaign_id = {campaign:String} AND push_id != ''
		  AND type IN ({sent:String}, {failed:String}, {delivered:String}, {clicked:String})
		  AND time >= fromUnixTimestamp64Milli({since:Int64}, 'UTC')`,
		clickhouse.Named("site", q.SiteID), clickhouse.Named("campaign", q.CampaignID),
		clickhouse.Named("sent", typeSent), clickhouse.Named("failed", string(schemas.EventPushFailed)),
		clickhouse.Named("delivered", string(schemas.EventPushDelivered)), clickhouse.Named("clicked", typeClicked),
		clickhouse.Named("since", q.Since.Add(-sinceMargin).UnixMilli()),
	).Scan(&out.Sent, &out.Failed, &out.Delivered, &out.Clicked)
	if err != nil {
		return CampaignCounts{}, fmt.Errorf("query campaign counts: %w", err)
	}
	return out, nil
}
