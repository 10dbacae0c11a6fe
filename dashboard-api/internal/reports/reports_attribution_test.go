package reports

import (
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/testkit/testdb"
)

type ev struct {
	sub, typ         string
	at               time.Time
	push, camp, auto string
	step, variant    string
	revenue          float64
}

func insert(t *testing.T, c *ClickHouse, siteID string, evs []ev) {
	t.Helper()
	b, err := c.conn.PrepareBatch(t.Context(), `INSERT INTO events (event_id, site_id, subscriber_id, type,
		time, client_time, server_time, props, revenue, push_id, campaign_id, automation_id, kafka_topic, kafka_partition, kafka_offset)`)
	require.NoError(t, err)
	for i, e := range evs {
		props := map[string]string{}
		if e.step != "" {
			props["step_id"] = e.step
		}
		if e.variant != "" {
			props["variant"] = e.variant
		}
		require.NoError(t, b.Append(uuid.New(), siteID, e.sub, e.typ, e.at, e.at, e.at, props, e.revenue,
			e.push, e.camp, e.auto, "test", uint32(0), uint64(i+1)))
	}
	require.NoError(t, b.Send())
}

func TestAttributionAtTheWindowBounds(t *testing.T) {
	c := NewClickHouse(testdb.ClickHouse(t))
	site, other := uuid.NewString(), uuid.NewString()
	t0 := time.Date(2025, 7, 1, 10, 0, 0, 0, time.UTC)
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	ms := time.Millisecond
	evs := []ev{
		// s1: campaign C1 variant A, clicked after 1 h; a conversion exactly one window after the click counts, 1 ms later does not.
		{sub: "s1", typ: typeSent, at: t0, push: "p1", camp: "C1", variant: "A"},
		{sub: "s1", typ: typeClicked, at: h(1), push: "p1", camp: "C1"},
		{sub: "s1", typ: typeConverted, at: h(25), revenue: 10},
		{sub: "s1", typ: typeConverted, at: h(25).Add(ms), revenue: 100},
		// s2: two clicked pushes; each conversion belongs to the last click before it.
		{sub: "s2", typ: typeSent, at: t0, push: "p2", camp: "C1", variant: "B"},
		{sub: "s2", typ: typeSent, at: t0, push: "p4", auto: "AU1", step: "0"},
		{sub: "s2", typ: typeClicked, at: h(2), push: "p2", camp: "C1"},
		{sub: "s2", typ: typeConverted, at: h(2.5), revenue: 7},
		{sub: "s2", typ: typeClicked, at: h(3), push: "p4", auto: "AU1"},
		{sub: "s2", typ: typeConverted, at: h(3), revenue: 5}, // at the click's instant
		// s3 and s4 held out of C1/A: s3 converts within the window, s4 1 ms after it.
		{sub: "s3", typ: typeHeldOut, at: t0, push: "h3", camp: "C1", variant: "A"},
		{sub: "s3", typ: typeConverted, at: h(5), revenue: 3},
		{sub: "s4", typ: typeHeldOut, at: t0, push: "h4", camp: "C1", variant: "A"},
		{sub: "s4", typ: typeConverted, at: h(24).Add(ms), revenue: 3},
		// s5 converts without a click; s6 clicks a push whose push_sent is not stored.
		{sub: "s5", typ: typeConverted, at: h(1), revenue: 1},
		{sub: "s6", typ: typeClicked, at: h(1), push: "p6", camp: "C2"},
		{sub: "s6", typ: typeConverted, at: h(1.5), revenue: 2},
	}
	insert(t, c, site, evs)
	insert(t, c, other, evs) // another site: counted only there

	q := AttributionQuery{SiteID: site, From: h(-1), To: h(48), Window: 24 * time.Hour}
	run := func(by By) []Row {
		q.By = by
		rows, err := c.Attribution(t.Context(), q)
		require.NoError(t, err)
		return rows
	}
	require.Equal(t, []Row{
		{
			Key: Key{CampaignID: "C1"}, PushesSent: 2, Recipients: 2, RecipientsConverted: 1, Clicks: 2,
			ConversionsTotal: 2, ConversionsUnique: 2, Revenue: 17, Holdout: Holdout{Members: 2, ConversionsUnique: 1},
		},
		{Key: Key{CampaignID: "C2"}, Clicks: 1, ConversionsTotal: 1, ConversionsUnique: 1, Revenue: 2},
	}, run(ByCampaign))
	require.Equal(t, []Row{
		{
			Key: Key{CampaignID: "C1", Variant: "A"}, PushesSent: 1, Recipients: 1, Clicks: 1,
			ConversionsTotal: 1, ConversionsUnique: 1, Revenue: 10, Holdout: Holdout{Members: 2, ConversionsUnique: 1},
		},
		{
			Key: Key{CampaignID: "C1", Variant: "B"}, PushesSent: 1, Recipients: 1, RecipientsConverted: 1, Clicks: 1,
			ConversionsTotal: 1, ConversionsUnique: 1, Revenue: 7,
		},
		{Key: Key{CampaignID: "C2"}, Clicks: 1, ConversionsTotal: 1, ConversionsUnique: 1, Revenue: 2},
	}, run(ByVariant))
	want := Row{PushesSent: 1, Recipients: 1, RecipientsConverted: 1, Clicks: 1, ConversionsTotal: 1, ConversionsUnique: 1, Revenue: 5}
	want.Key = Key{AutomationID: "AU1"}
	require.Equal(t, []Row{want}, run(ByAutomation))
	want.Key = Key{AutomationID: "AU1", StepID: "0"}
	require.Equal(t, []Row{want}, run(ByStep))

	// A range after the clicks: s1's conversion at h(25) still belongs to its click at h(1).
	q.From = h(24)
	rows := run(ByCampaign)
	require.Equal(t, []Row{{Key: Key{CampaignID: "C1"}, ConversionsTotal: 1, ConversionsUnique: 1, Revenue: 10}}, rows)
}

func TestCampaignCounts(t *testing.T) {
	c := NewClickHouse(testdb.ClickHouse(t))
	site, other := uuid.NewString(), uuid.NewString()
	t0 := time.Date(2025, 7, 1, 10, 0, 0, 0, time.UTC)
	evs := []ev{
		{sub: "s1", typ: typeSent, at: t0, push: "p1", camp: "C1"},
		{sub: "s1", typ: "push_delivered", at: t0, push: "p1", camp: "C1"},
		{sub: "s1", typ: typeClicked, at: t0, push: "p1", camp: "C1"},
		{sub: "s1", typ: typeClicked, at: t0, push: "p1", camp: "C1"}, // a second click of the same push
		{sub: "s2", typ: typeSent, at: t0, push: "p2", camp: "C1"},
		{sub: "s3", typ: "push_failed", at: t0, push: "p3", camp: "C1"},
		{sub: "s4", typ: typeSent, at: t0, push: "p4", camp: "C2"},
	}
	insert(t, c, site, evs)
	insert(t, c, other, evs)
	got, err := c.Campaign(t.Context(), CampaignQuery{SiteID: site, CampaignID: "C1", Since: t0})
	require.NoError(t, err)
	require.Equal(t, CampaignCounts{Sent: 2, Failed: 1, Delivered: 1, Clicked: 1}, got)
}

// A push stored twice in push_sent_meta (the migration's backfill beside its
// view, or run again) still gives its click and conversion once.
func TestAttributionCountsAPushStoredTwiceOnce(t *testing.T) {
	c := NewClickHouse(testdb.ClickHouse(t))
	site := uuid.NewString()
	t0 := time.Date(2025, 7, 1, 10, 0, 0, 0, time.UTC)
	insert(t, c, site, []ev{
		{sub: "s1", typ: typeSent, at: t0, push: "p1", camp: "C1", variant: "B"},
		{sub: "s1", typ: typeClicked, at: t0.Add(time.Hour), push: "p1", camp: "C1"},
		{sub: "s1", typ: typeConverted, at: t0.Add(2 * time.Hour), revenue: 4},
	})
	require.NoError(t, c.conn.Exec(t.Context(), `INSERT INTO push_sent_meta SELECT * FROM push_sent_meta WHERE site_id = {site:String}`,
		clickhouse.Named("site", site)))
	rows, err := c.Attribution(t.Context(), AttributionQuery{SiteID: site, From: t0, To: t0.Add(24 * time.Hour), Window: 24 * time.Hour, By: ByVariant})
	require.NoError(t, err)
	require.Equal(t, []Row{{
		Key: Key{CampaignID: "C1", Variant: "B"}, PushesSent: 1, Recipients: 1, RecipientsConverted: 1, Clicks: 1,
		ConversionsTotal: 1, ConversionsUnique: 1, Revenue: 4,
	}}, rows)
}
