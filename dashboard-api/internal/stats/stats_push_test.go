package stats

import (
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/testkit/testdb"
)

// The step and variant of a push come from push_sent_meta, which may hold a
// push twice (the migration's backfill beside the view, or run again): its
// delivery, click and close still count once.
func TestPushPerformanceCountsAPushStoredTwiceOnce(t *testing.T) {
	conn := testdb.ClickHouse(t)
	c := NewClickHouse(conn)
	site := uuid.NewString()
	t0 := at("2025-03-01T10:00:00Z")
	insertEvents(t, conn, site, []ev{
		{sub: "a", typ: "push_sent", at: t0.Add(-time.Hour), push: "p1", camp: "C1", props: map[string]string{"variant": "B"}},
		{sub: "a", typ: "push_delivered", at: t0, push: "p1", camp: "C1"},
		{sub: "a", typ: "push_clicked", at: t0, push: "p1", camp: "C1"},
		{sub: "a", typ: "push_closed", at: t0, push: "p1", camp: "C1"},
	})
	require.NoError(t, conn.Exec(t.Context(), `INSERT INTO push_sent_meta SELECT * FROM push_sent_meta WHERE site_id = {site:String}`,
		clickhouse.Named("site", site)))
	var stored uint64
	require.NoError(t, conn.QueryRow(t.Context(), `SELECT count() FROM push_sent_meta WHERE site_id = {site:String}`,
		clickhouse.Named("site", site)).Scan(&stored))
	require.Equal(t, uint64(2), stored, "the push is stored twice")

	rows, err := c.PushPerformance(t.Context(), PushQuery{
		OverviewQuery: dayQuery(t, site, "2025-03-01T00:00:00Z", "2025-03-02T00:00:00Z"), Kind: Campaigns,
	})
	require.NoError(t, err)
	require.Equal(t, []PushRow{{
		CampaignID: "C1", Variant: "B", Sent: 1, Delivered: 1, Clicked: 1, Closed: 1, Failures: map[string]uint64{},
	}}, rows)
}
