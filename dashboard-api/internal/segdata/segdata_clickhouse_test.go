package segdata

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/testkit/testdb"
	"github.com/pushpipe/pushpipe/segments"
)

type row struct {
	id             uuid.UUID
	sub, typ, name string
	at             time.Time
	props          map[string]string
	country        string
	segment        string
}

func insert(t *testing.T, c *ClickHouse, siteID string, rows []row) {
	t.Helper()
	b, err := c.conn.PrepareBatch(t.Context(), `INSERT INTO events (event_id, site_id, subscriber_id, type, name,
		time, client_time, server_time, url, props, revenue, country, browser, segment_id, kafka_topic, kafka_partition, kafka_offset)`)
	require.NoError(t, err)
	for i, r := range rows {
		if r.id == uuid.Nil {
			r.id = uuid.New()
		}
		if r.props == nil {
			r.props = map[string]string{}
		}
		require.NoError(t, b.Append(r.id, siteID, r.sub, r.typ, r.name, r.at, r.at, r.at, "https://example.com/p",
			r.props, 9.5, r.country, "Firefox", r.segment, "test", uint32(0), uint64(i+1)))
	}
	require.NoError(t, b.Send())
}

func TestEventsOfOneSubscriber(t *testing.T) {
	c := NewClickHouse(testdb.ClickHouse(t))
	site, other := uuid.NewString(), uuid.NewString()
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	low, high := uuid.MustParse("00000000-0000-7000-8000-000000000001"), uuid.MustParse("ffffffff-0000-7000-8000-000000000001")
	insert(t, c, site, []row{
		{id: high, sub: "s1", typ: "page_view", at: t0.Add(-time.Hour)},
		{id: low, sub: "s1", typ: "custom", name: "buy", at: t0.Add(-time.Hour), props: map[string]string{"sku": "A1"}, country: "FR"},
		{sub: "s1", typ: "page_view", at: t0.Add(-2 * time.Hour)},
		{sub: "s1", typ: "identify", at: t0},                                        // exactly at: included
		{sub: "s1", typ: "page_view", at: t0.Add(time.Millisecond)},                 // after at
		{sub: "s1", typ: "segment_entered", at: t0.Add(-time.Minute), segment: "x"}, // the evaluator's own output
		{sub: "s2", typ: "page_view", at: t0.Add(-time.Hour)},                       // another subscriber
	})
	insert(t, c, other, []row{{sub: "s1", typ: "page_view", at: t0.Add(-time.Hour)}}) // another site

	evs, err := c.Events(t.Context(), EventsQuery{SiteID: site, SubscriberID: "s1", At: t0, Limit: 100})
	require.NoError(t, err)
	var types []string
	for _, e := range evs {
		types = append(types, e.Type)
	}
	require.Equal(t, []string{"page_view", "custom", "page_view", "identify"}, types, "oldest first, ties by event id")
	require.Equal(t, low.String(), evs[1].ID)
	require.Equal(t, high.String(), evs[2].ID)
	require.Equal(t, segments.Event{
		ID: low.String(), Type: "custom", Name: "buy", Time: t0.Add(-time.Hour), URL: "https://example.com/p",
		Revenue: 9.5, Props: map[string]string{"sku": "A1"}, Browser: "Firefox", Country: "FR",
	}, evs[1])

	evs, err = c.Events(t.Context(), EventsQuery{SiteID: site, SubscriberID: "s1", At: t0, Limit: 2})
	require.NoError(t, err)
	require.Len(t, evs, 2, "at most Limit")
}

func TestCountAndMembersAreScoped(t *testing.T) {
	c := NewClickHouse(testdb.ClickHouse(t))
	site, other := uuid.NewString(), uuid.NewString()
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	insert(t, c, site, []row{
		{sub: "a", typ: "page_view", at: t0},
		{sub: "b", typ: "page_view", at: t0},
		{sub: "c", typ: "click", at: t0},
		{sub: "a", typ: "segment_entered", at: t0, segment: "seg"},
		{sub: "b", typ: "segment_entered", at: t0, segment: "seg"},
		{sub: "b", typ: "segment_exited", at: t0.Add(time.Minute), segment: "seg"},
	})
	insert(t, c, other, []row{
		{sub: "z", typ: "page_view", at: t0},
		{sub: "z", typ: "segment_entered", at: t0, segment: "seg"},
	})

	r, err := segments.ParseText("event page_view within 1d")
	require.NoError(t, err)
	q, err := segments.Compile(r, site, t0)
	require.NoError(t, err)
	n, err := c.Count(t.Context(), q)
	require.NoError(t, err)
	require.Equal(t, uint64(2), n, "a and b, not c nor the other site's z")

	ms, err := c.Members(t.Context(), MembersQuery{SiteID: site, SegmentID: "seg", Limit: 10})
	require.NoError(t, err)
	require.Equal(t, []Member{{SubscriberID: "a", Since: t0}}, ms, "b left again; z is another site's")
	ms, err = c.Members(t.Context(), MembersQuery{SiteID: site, SegmentID: "seg", After: "a", Limit: 10})
	require.NoError(t, err)
	require.Empty(t, ms)
}
