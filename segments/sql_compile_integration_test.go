package segments_test

import (
	"slices"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/testkit/testdb"
	"github.com/pushpipe/pushpipe/segments"
)

// t0 is the main instant of evaluation in the integration test.
var t0 = time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)

// row is one hand-made event.
type row struct {
	sub, typ, name, url, country, browser string
	props                                 map[string]string
	at                                    time.Time
}

func openClickHouse(t *testing.T) driver.Conn {
	t.Helper()
	return testdb.ClickHouse(t)
}

func insertRows(t *testing.T, ch driver.Conn, siteID string, rows []row) {
	t.Helper()
	b, err := ch.PrepareBatch(t.Context(), `INSERT INTO events (event_id, site_id, subscriber_id, type, name,
		time, client_time, server_time, url, props, country, browser, kafka_topic, kafka_partition, kafka_offset)`)
	require.NoError(t, err)
	for i, r := range rows {
		id, err := uuid.NewV7()
		require.NoError(t, err)
		props := r.props
		if props == nil {
			props = map[string]string{}
		}
		require.NoError(t, b.Append(id, siteID, r.sub, r.typ, r.name, r.at, r.at, r.at,
			r.url, props, r.country, r.browser, "test", uint32(0), uint64(i)))
	}
	require.NoError(t, b.Send())
}

func members(t *testing.T, ch driver.Conn, siteID, text string, at time.Time) []string {
	t.Helper()
	r, err := segments.ParseText(text)
	require.NoError(t, err, text)
	q, err := segments.Compile(r, siteID, at)
	require.NoError(t, err, text)
	args := make([]any, 0, len(q.Args))
	for k, v := range q.Args {
		args = append(args, clickhouse.Named(k, v))
	}
	rows, err := ch.Query(t.Context(), q.Query, args...)
	require.NoError(t, err, "%s\n%s", text, q.Query)
	defer func() { _ = rows.Close() }()
	out := []string{}
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		out = append(out, s)
	}
	require.NoError(t, rows.Err())
	slices.Sort(out)
	return out
}

func TestCompileAgainstClickHouse(t *testing.T) {
	ch := openClickHouse(t)
	site := uuid.NewString()
	h := time.Hour
	home, pricing := "https://example.com/", "https://example.com/pricing"
	insertRows(t, ch, site, []row{
		{sub: "a", typ: "identify", props: map[string]string{"plan": "pro"}, at: t0.Add(-3 * h)},
		{sub: "a", typ: "page_view", url: home, country: "FR", browser: "Chrome", at: t0.Add(-2 * h)},
		{sub: "a", typ: "custom", name: "add_to_cart", props: map[string]string{"price": "60"}, at: t0.Add(-30 * time.Minute)},
		{sub: "a", typ: "custom", name: "add_to_cart", props: map[string]string{"price": "10"}, at: t0.Add(-10 * time.Minute)},
		{sub: "a", typ: "page_view", url: home, country: "US", at: t0.Add(h)},
		{sub: "b", typ: "subscribed", country: "DE", at: t0.Add(-90 * time.Minute)},
		{sub: "b", typ: "page_view", url: home, country: "DE", at: t0.Add(-h)},
		{sub: "b", typ: "page_view", url: pricing, at: t0},
		{sub: "c", typ: "page_view", url: home, country: "FR", at: t0.Add(-72 * h)},
	})
	just := t0.Add(-time.Millisecond)
	cases := []struct {
		rule string
		at   time.Time
		want []string
	}{
		{`country = "FR"`, t0, []string{"a", "c"}},
		{`country = "FR"`, t0.Add(2 * h), []string{"c"}},
		{`browser = "Chrome"`, t0, []string{"a"}},
		{`not country = "FR"`, t0, []string{"b"}},
		{`country != "DE"`, t0.Add(-48 * h), []string{"c"}},
		{`not country = "DE"`, t0.Add(-48 * h), []string{"c"}},
		{`event page_view where url contains "pricing" within 1h`, t0, []string{"b"}},
		{`event page_view where url contains "pricing" within 1h`, just, []string{}},
		{`event page_view where url = "https://example.com/" within 1h`, t0, []string{}},
		{`event page_view where url = "https://example.com/" within 1h`, just, []string{"b"}},
		{`event add_to_cart count >= 2 within 1h`, t0, []string{"a"}},
		{`event add_to_cart count >= 3 within 1h`, t0, []string{}},
		{`event add_to_cart count = 0 within 1h`, t0, []string{"b", "c"}},
		{`event add_to_cart where props.price > 50 count = 1 within 1d`, t0, []string{"a"}},
		{`inactive within 1d`, t0, []string{"c"}},
		{`country = "DE" or inactive within 1d`, t0, []string{"b", "c"}},
		{`country = "FR" and event add_to_cart within 1h`, t0, []string{"a"}},
		{`attr.plan = "pro"`, t0, []string{"a"}},
		{`attr.plan exists`, t0.Add(-4 * h), []string{}},
		{`first event page_view before "2026-01-09T00:00:00Z"`, t0, []string{"c"}},
		{`last event page_view within 2h`, t0, []string{"b"}},
		{`last event page_view after "2026-01-10T11:00:00Z"`, t0.Add(2 * h), []string{"a", "b"}},
		{`first_seen < "2026-01-09T00:00:00Z"`, t0, []string{"c"}},
		{`status = "subscribed"`, t0, []string{"b"}},
		{`country in ("DE", "US")`, t0, []string{"b"}},
		{`attr.plan regex "^pr"`, t0, []string{"a"}},
		{`country = "FR' OR '1'='1"`, t0, []string{}},
		{`not country = "@site"`, t0, []string{"a", "b", "c"}},
		{`not event add_to_cart within 1h`, t0, []string{"b", "c"}},
		{`not (country = "FR" or event page_view within 1h)`, t0, []string{}},
		{`not (country = "FR" or event page_view within 1h)`, t0.Add(-61 * time.Minute), []string{"b"}},
	}
	for _, tc := range cases {
		t.Run(tc.rule+"@"+tc.at.Format(time.RFC3339Nano), func(t *testing.T) {
			require.Equal(t, tc.want, members(t, ch, site, tc.rule, tc.at))
		})
	}
}
