package backtest

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/automation"
	"github.com/pushpipe/pushpipe/internal/testkit/testdb"
)

type row struct {
	sub, typ, name, segment, reason, tz string
	at                                  time.Time
	props                               map[string]string
}

func insert(t *testing.T, c *ClickHouse, siteID string, rows []row) {
	t.Helper()
	b, err := c.conn.PrepareBatch(t.Context(), `INSERT INTO events (event_id, site_id, subscriber_id, type, name,
		time, client_time, server_time, props, segment_id, reason, timezone, kafka_topic, kafka_partition, kafka_offset)`)
	require.NoError(t, err)
	for i, r := range rows {
		if r.props == nil {
			r.props = map[string]string{}
		}
		require.NoError(t, b.Append(uuid.New(), siteID, r.sub, r.typ, r.name, r.at, r.at, r.at, r.props,
			r.segment, r.reason, r.tz, "test", uint32(0), uint64(i+1)))
	}
	require.NoError(t, b.Send())
}

func TestClickHouseSourceReadsWhatTheAutomationNeeds(t *testing.T) {
	c := NewClickHouse(testdb.ClickHouse(t))
	site, other := uuid.NewString(), uuid.NewString()
	base := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	h := func(n int) time.Time { return base.Add(time.Duration(n) * time.Hour) }
	insert(t, c, site, []row{
		{sub: "s1", typ: "custom", name: "add_to_cart", at: h(2), tz: "Europe/Paris", props: map[string]string{"cart_id": "c1"}},
		{sub: "s1", typ: "page_view", at: h(3)},                                          // a type the automation does not read
		{sub: "s1", typ: "conversion", name: "purchase", at: h(1)},                       // read, older: first
		{sub: "s2", typ: "segment_entered", segment: "vip", reason: "event", at: h(4)},   // a segment it reads
		{sub: "s2", typ: "segment_entered", segment: "other", reason: "event", at: h(4)}, // one it does not
		{sub: "s3", typ: "segment_entered", segment: "vip", reason: "event", at: h(-30)}, // before the range: membership
		{sub: "s4", typ: "segment_entered", segment: "vip", reason: "event", at: h(-30)},
		{sub: "s4", typ: "segment_exited", segment: "vip", reason: "timer", at: h(-29)},
		{sub: "s1", typ: "custom", name: "add_to_cart", at: h(48)}, // after the range
	})
	insert(t, c, other, []row{{sub: "s1", typ: "custom", name: "add_to_cart", at: h(2)}})

	q := Query{SiteID: site, From: base, To: h(24), Types: []string{"conversion", "custom"}, Segments: []string{"vip"}, Limit: 100}
	n, err := c.CountEvents(t.Context(), q)
	require.NoError(t, err)
	require.Equal(t, uint64(3), n)
	var got []Event
	require.NoError(t, c.Events(t.Context(), q, func(e *Event) error { got = append(got, *e); return nil }))
	require.Len(t, got, 3)
	require.Equal(t, []string{"conversion", "custom", "segment_entered"}, []string{got[0].Type, got[1].Type, got[2].Type})
	require.Equal(t, "Europe/Paris", got[1].Timezone)
	require.Equal(t, map[string]string{"cart_id": "c1"}, got[1].Props)
	require.Equal(t, "vip", got[2].SegmentID)
	require.Equal(t, "event", got[2].Reason)

	members, err := c.Members(t.Context(), site, []string{"vip"}, base)
	require.NoError(t, err)
	require.Equal(t, map[string]map[string]bool{"vip": {"s3": true}}, members, "s4 left before the range")
}

func TestRunOverClickHouse(t *testing.T) {
	c := NewClickHouse(testdb.ClickHouse(t))
	site := uuid.NewString()
	base := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	m := func(n int) time.Time { return base.Add(time.Duration(n) * time.Minute) }
	cart := func(sub, typ, name string, at time.Time, id string) row {
		return row{sub: sub, typ: typ, name: name, at: at, props: map[string]string{"cart_id": id}}
	}
	subscribed := func(sub string, at time.Time) row { return row{sub: sub, typ: "subscribed", at: at} }
	insert(t, c, site, []row{
		subscribed("s1", m(-10*24*60)), subscribed("s2", m(-10*24*60)), subscribed("s3", m(-10*24*60)),
		subscribed("s4", m(-10*24*60)),
		{sub: "s4", typ: "unsubscribed", at: m(-9 * 24 * 60)},
		cart("s4", "custom", "add_to_cart", m(10), "c4"), // unsubscribed: skipped
		cart("v5", "custom", "add_to_cart", m(10), "c5"), // never subscribed: skipped
		cart("s1", "custom", "add_to_cart", m(10), "c1"), // abandoned
		cart("s2", "custom", "add_to_cart", m(10), "c2"),
		cart("s2", "conversion", "purchase", m(40), "c2"), // bought in time
		cart("s3", "custom", "add_to_cart", m(-50), "c3"), // before the range, due in it
	})
	a, probs := automation.ParseAutomation([]byte(cartAbandonment))
	require.Empty(t, probs)
	res, err := Run(t.Context(), c, Request{SiteID: site, AutomationID: "a1", Automation: a, From: base, To: base.Add(24 * time.Hour)})
	require.NoError(t, err)
	require.Equal(t, []Day{{Date: "2025-06-01", WouldSend: 2, Skipped: 2}}, res.Days)

	subs, err := c.Subscribed(t.Context(), site, base)
	require.NoError(t, err)
	require.Equal(t, map[string]bool{"s1": true, "s2": true, "s3": true}, subs)

	_, err = Run(t.Context(), c, Request{SiteID: site, Automation: a, From: base, To: base.Add(32 * 24 * time.Hour)})
	require.ErrorIs(t, err, ErrRange)
}
