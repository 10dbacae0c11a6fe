package automate

import (
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/testkit/testdb"
)

// chEvent is one row of the events table, as the sink stores it.
type chEvent struct {
	sub, typ, name, segment string
	props                   map[string]string
	country, city, tz       string
	endpoint                string
}

// TestClickHouseLookup reads subscribers, attributes, membership, events
// and campaign members from what the sink and its materialized views store.
func TestClickHouseLookup(t *testing.T) {
	conn := testdb.ClickHouse(t)
	site, topic := uuid.NewString(), "test-lookup-"+uuid.NewString()[:8]
	start := time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond)
	rows := []chEvent{
		{sub: "a", typ: "identify", props: map[string]string{"first_name": "Ada"}},
		{sub: "a", typ: "page_view", country: "FR", city: "Paris"},
		{sub: "a", typ: "identify", props: map[string]string{"first_name": "Adele", "plan": "pro"}},
		{sub: "a", typ: "subscribed", tz: "Europe/Paris", endpoint: "https://push.example/a"},
		{sub: "a", typ: "segment_entered", segment: "vip"},
		{sub: "b", typ: "subscribed", endpoint: "https://push.example/b"},
		{sub: "b", typ: "unsubscribed"},
		{sub: "b", typ: "segment_entered", segment: "vip"},
		{sub: "b", typ: "segment_entered", segment: "churned"},
		{sub: "c", typ: "segment_entered", segment: "vip"},
		{sub: "c", typ: "segment_exited", segment: "vip"},
		{sub: "d", typ: "segment_entered", segment: "gold"},
		{sub: "d", typ: "segment_entered", segment: "vip"},
	}
	batch, err := conn.PrepareBatch(t.Context(), `INSERT INTO events (event_id, site_id, subscriber_id, type, name, time,
		props, country, city, timezone, segment_id, endpoint, p256dh, auth, kafka_topic, kafka_partition, kafka_offset)`)
	require.NoError(t, err)
	for i, r := range rows {
		props := r.props
		if props == nil {
			props = map[string]string{}
		}
		require.NoError(t, batch.Append(uuid.New(), site, r.sub, r.typ, r.name, start.Add(time.Duration(i)*time.Second),
			props, r.country, r.city, r.tz, r.segment, r.endpoint, "p256dh", "auth", topic, uint32(0), uint64(i)))
	}
	require.NoError(t, batch.Send())
	ch := NewClickHouse(conn, slog.New(slog.DiscardHandler))
	ctx := t.Context()

	subs, err := ch.Subscribers(ctx, site, []string{"a", "b", "nobody"}, true)
	require.NoError(t, err)
	require.Len(t, subs, 2)
	a := subs["a"]
	require.Equal(t, "subscribed", a.Status)
	require.Equal(t, "https://push.example/a", a.Subscription.Endpoint)
	require.Equal(t, "Europe/Paris", a.Timezone)
	require.Equal(t, map[string]string{"country": "FR", "city": "Paris", "attr.first_name": "Adele", "attr.plan": "pro"}, a.Attrs)
	require.Equal(t, "unsubscribed", subs["b"].Status)
	bare, err := ch.Subscribers(ctx, site, []string{"a"}, false)
	require.NoError(t, err)
	require.Nil(t, bare["a"].Attrs, "no attributes asked for")
	require.Equal(t, "Europe/Paris", bare["a"].Timezone)

	member, _, found, err := ch.Membership(ctx, site, "vip", "a")
	require.NoError(t, err)
	require.True(t, found && member)
	member, _, found, err = ch.Membership(ctx, site, "vip", "c")
	require.NoError(t, err)
	require.True(t, found)
	require.False(t, member, "exited")
	_, _, found, err = ch.Membership(ctx, site, "vip", "nobody")
	require.NoError(t, err)
	require.False(t, found)

	events, err := ch.Events(ctx, site, "a", "identify", start, start.Add(time.Hour))
	require.NoError(t, err)
	require.Len(t, events, 1, "after the first identify (exclusive), up to the end")
	require.Equal(t, "Adele", events[0].Props["first_name"])

	aud := Audience{Site: site, Include: []string{"vip", "gold"}, Exclude: []string{"churned"}}
	page1, err := ch.Members(ctx, aud, "", 1)
	require.NoError(t, err)
	require.Equal(t, []Member{{ID: "a", Timezone: "Europe/Paris"}}, page1)
	page2, err := ch.Members(ctx, aud, "a", 1)
	require.NoError(t, err)
	require.Equal(t, []Member{{ID: "d"}}, page2, "c left, b is excluded, d is in both but once")
	page3, err := ch.Members(ctx, aud, "d", 1)
	require.NoError(t, err)
	require.Empty(t, page3)
	sites, err := ch.TopicSites(ctx, topic)
	require.NoError(t, err)
	require.Equal(t, []string{site}, sites)

	all, err := ch.Members(ctx, Audience{Site: site, Include: []string{"vip"}}, "", 10)
	require.NoError(t, err)
	require.Len(t, all, 3, "a, b and d without exclusion")
}
