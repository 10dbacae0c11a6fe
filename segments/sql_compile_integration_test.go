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

// row is one hand-made event; a zero id is replaced by a fresh one.
type row struct {
	sub, typ, name, url, country, browser string
	tz                                    string // timezone
	props                                 map[string]string
	at                                    time.Time
	id                                    uuid.UUID
}

func openClickHouse(t *testing.T) driver.Conn {
	t.Helper()
	return testdb.ClickHouse(t)
}

func insertRows(t *testing.T, ch driver.Conn, siteID string, rows []row) {
	t.Helper()
	b, err := ch.PrepareBatch(t.Context(), `INSERT INTO events (event_id, site_id, subscriber_id, type, name,
		time, client_time, server_time, url, props, country, browser, timezone, kafka_topic, kafka_partition, kafka_offset)`)
	require.NoError(t, err)
	for i, r := range rows {
		id := r.id
		if id == uuid.Nil {
			id = uuid.New()
		}
		props := r.props
		if props == nil {
			props = map[string]string{}
		}
		require.NoError(t, b.Append(id, siteID, r.sub, r.typ, r.name, r.at, r.at, r.at,
			r.url, props, r.country, r.browser, r.tz, "test", uint32(0), uint64(i)))
	}
	require.NoError(t, b.Send())
}

func members(t *testing.T, ch driver.Conn, siteID, text string, at time.Time) []string {
	t.Helper()
	return membersWith(t, ch, siteID, text, at, nil)
}

func membersWith(t *testing.T, ch driver.Conn, siteID, text string, at time.Time, resolve segments.Resolver) []string {
	t.Helper()
	r, err := segments.ParseText(text)
	require.NoError(t, err, text)
	q, err := segments.CompileWith(r, siteID, at, resolve)
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

// membershipCase is a rule, an instant and the members expected then.
type membershipCase struct {
	rule string
	at   time.Time
	want []string
}

// checkMembership stores rows under a fresh site and checks every case.
func checkMembership(t *testing.T, rows []row, resolve segments.Resolver, cases []membershipCase) {
	t.Helper()
	ch := openClickHouse(t)
	site := uuid.NewString()
	insertRows(t, ch, site, rows)
	for _, tc := range cases {
		t.Run(tc.rule+"@"+tc.at.Format(time.RFC3339Nano), func(t *testing.T) {
			require.Equal(t, tc.want, membersWith(t, ch, site, tc.rule, tc.at, resolve))
		})
	}
}

func TestCompileSequence(t *testing.T) {
	ms, w := time.Millisecond, time.Hour
	a := t0.Add(-2 * w) // the E1 instant; a+W = t0-1h
	seq := `sequence event custom "cart" then not event conversion "buy" within 1h`
	cart := func(sub, id string, at time.Time) row {
		return row{sub: sub, typ: "custom", name: "cart", props: map[string]string{"cart": id}, at: at}
	}
	buy := func(sub, id string, at time.Time) row {
		r := row{sub: sub, typ: "conversion", name: "buy", at: at}
		if id != "" {
			r.props = map[string]string{"cart": id}
		}
		return r
	}
	checkMembership(t, []row{
		cart("atEnd", "x", a), buy("atEnd", "", a.Add(w)), // E2 exactly at a+W cancels
		cart("late", "x", a), buy("late", "", a.Add(w+ms)), // E2 at a+W+1ms does not
		cart("same", "x", a), buy("same", "", a), // E2 exactly at a does not
		cart("alone", "x", a), // no E2
	}, nil, []membershipCase{
		{seq, t0, []string{"alone", "late", "same"}},
		{seq, a.Add(w), []string{"alone", "late", "same"}},
		{seq, a.Add(w - ms), []string{}},
		{`sequence event custom "cart" then not event conversion "buy" within 2h`, t0, []string{"alone", "same"}},
		{"not " + seq, t0, []string{"atEnd"}},
	})
	// Correlated on the cart id: E1 must carry it, only E2 with the same id
	// cancels (an E2 without the key never does, even against an empty id).
	correlated := seq + ` correlate "cart"`
	checkMembership(t, []row{
		cart("other", "x", a), buy("other", "y", a.Add(30*time.Minute)),
		cart("sameKey", "x", a), buy("sameKey", "x", a.Add(w)),
		cart("keyLate", "x", a), buy("keyLate", "x", a.Add(w+ms)),
		{sub: "noKey", typ: "custom", name: "cart", at: a},
		cart("noKeyBuy", "x", a), buy("noKeyBuy", "", a.Add(time.Minute)),
		cart("sameAt", "x", a), buy("sameAt", "x", a),
		cart("emptyKey", "", a), buy("emptyKey", "", a.Add(time.Minute)),
		cart("two", "x", a), cart("two", "y", a.Add(time.Minute)), buy("two", "x", a.Add(time.Minute)),
	}, nil, []membershipCase{
		{correlated, t0, []string{"emptyKey", "keyLate", "noKeyBuy", "other", "sameAt", "two"}},
		// two's cart y only satisfies it a minute later.
		{correlated, a.Add(w), []string{"emptyKey", "keyLate", "noKeyBuy", "other", "sameAt"}},
		{correlated, a.Add(w - ms), []string{}},
		// Uncorrelated, two's purchase at a+1m cancels the cart at a, not the
		// one at a+1m (the same instant).
		{seq, t0, []string{"keyLate", "noKey", "sameAt", "two"}},
	})
}

func TestCompileLatestBreaksTiesOnEventID(t *testing.T) {
	hi := uuid.MustParse("10000000-0000-0000-0000-000000000000")
	lo := uuid.MustParse("00000000-0000-0000-ffff-ffffffffffff")
	at := t0.Add(-time.Hour)
	plan := func(sub, v string, id uuid.UUID) row {
		return row{sub: sub, typ: "identify", props: map[string]string{"plan": v}, at: at, id: id}
	}
	checkMembership(t, []row{
		{sub: "frHigh", typ: "page_view", country: "FR", at: at, id: hi},
		{sub: "frHigh", typ: "page_view", country: "DE", at: at, id: lo},
		{sub: "deHigh", typ: "page_view", country: "FR", at: at, id: lo},
		{sub: "deHigh", typ: "page_view", country: "DE", at: at, id: hi},
		plan("frHigh", "pro", hi), plan("frHigh", "free", lo),
		plan("deHigh", "pro", lo), plan("deHigh", "free", hi),
		{sub: "frHigh", typ: "subscribed", at: at.Add(time.Minute), id: hi},
		{sub: "frHigh", typ: "unsubscribed", at: at.Add(time.Minute), id: lo},
		{sub: "deHigh", typ: "subscribed", at: at.Add(time.Minute), id: lo},
		{sub: "deHigh", typ: "unsubscribed", at: at.Add(time.Minute), id: hi},
	}, nil, []membershipCase{
		{`country = "FR"`, t0, []string{"frHigh"}},
		{`country = "DE"`, t0, []string{"deHigh"}},
		{`attr.plan = "pro"`, t0, []string{"frHigh"}},
		{`status = "subscribed"`, t0, []string{"frHigh"}},
		{`status = "unsubscribed"`, t0, []string{"deHigh"}},
	})
}

func TestCompileStatusAsOfT(t *testing.T) {
	h := time.Hour
	checkMembership(t, []row{
		{sub: "left", typ: "subscribed", at: t0.Add(-3 * h)},
		{sub: "left", typ: "unsubscribed", at: t0.Add(-h)},
		{sub: "expired", typ: "subscribed", at: t0.Add(-3 * h)},
		{sub: "expired", typ: "subscription_expired", at: t0.Add(-h)},
		{sub: "back", typ: "unsubscribed", at: t0.Add(-3 * h)},
		{sub: "back", typ: "subscribed", at: t0},
		{sub: "none", typ: "page_view", at: t0.Add(-3 * h)},
	}, nil, []membershipCase{
		{`status = "subscribed"`, t0.Add(-2 * h), []string{"expired", "left"}},
		{`status = "subscribed"`, t0, []string{"back"}},
		{`status = "subscribed"`, t0.Add(-time.Millisecond), []string{}},
		{`status = "unsubscribed"`, t0, []string{"left"}},
		{`status = "unsubscribed"`, t0.Add(-h - time.Millisecond), []string{"back"}},
		{`status = "expired"`, t0, []string{"expired"}},
		{`status in ("expired", "unsubscribed")`, t0, []string{"expired", "left"}},
		{`status != "subscribed"`, t0, []string{"expired", "left"}},
		{`not status exists`, t0, []string{"none"}},
	})
}

func TestCompileActivityAndEvaluatedEvents(t *testing.T) {
	h, d := time.Hour, 24*time.Hour
	checkMembership(t, []row{
		// ghost has only the evaluator's output: outside the universe.
		{sub: "ghost", typ: "segment_entered", at: t0.Add(-h)},
		// quiet was last active 3 days ago; a segment transition and a push
		// since then are not activity.
		{sub: "quiet", typ: "page_view", at: t0.Add(-3 * d)},
		{sub: "quiet", typ: "segment_entered", at: t0.Add(-h)},
		{sub: "quiet", typ: "push_sent", at: t0.Add(-h)},
		// pushed only ever received pushes: in the universe, never active.
		{sub: "pushed", typ: "push_sent", at: t0.Add(-h)},
		{sub: "pushed", typ: "push_failed", at: t0.Add(-h)},
		{sub: "busy", typ: "push_clicked", at: t0.Add(-h)},
	}, nil, []membershipCase{
		{`not country = "FR"`, t0, []string{"busy", "pushed", "quiet"}},
		{`inactive within 1d`, t0, []string{"pushed", "quiet"}},
		{`inactive within 1h`, t0, []string{"busy", "pushed", "quiet"}},
		{`inactive within 1h`, t0.Add(-time.Millisecond), []string{"pushed", "quiet"}},
		{`last_seen < "2026-01-09T00:00:00Z"`, t0, []string{"quiet"}},
		{`last_seen exists`, t0, []string{"busy", "quiet"}},
		{`not last_seen exists`, t0, []string{"pushed"}},
		{`first_seen >= "2026-01-10T11:00:00Z"`, t0, []string{"busy"}},
		{`event push_sent within 1d`, t0, []string{"pushed", "quiet"}},
	})
}

// timezone is the browser's IANA zone from the latest evaluated event that
// carries one, like country: an event without it keeps the previous value.
func TestCompileTimezone(t *testing.T) {
	h := time.Hour
	checkMembership(t, []row{
		{sub: "paris", typ: "page_view", tz: "Europe/Paris", at: t0.Add(-3 * h)},
		{sub: "paris", typ: "page_view", at: t0.Add(-h)}, // no zone: Paris stays
		{sub: "moved", typ: "page_view", tz: "Europe/Paris", at: t0.Add(-3 * h)},
		{sub: "moved", typ: "subscribed", tz: "America/New_York", at: t0.Add(-h)},
		{sub: "none", typ: "page_view", at: t0.Add(-h)},
		{sub: "ny", typ: "identify", tz: "America/New_York", at: t0.Add(-2 * h)},
		{sub: "ghost", typ: "segment_entered", tz: "Europe/Paris", at: t0.Add(-h)}, // not evaluated
	}, nil, []membershipCase{
		{`timezone = "Europe/Paris"`, t0, []string{"paris"}},
		{`timezone = "Europe/Paris"`, t0.Add(-h - time.Millisecond), []string{"moved", "paris"}},
		{`timezone = "America/New_York"`, t0, []string{"moved", "ny"}},
		{`timezone starts_with "America/"`, t0.Add(-h - time.Millisecond), []string{"ny"}},
		{`timezone in ("Europe/Paris", "America/New_York")`, t0, []string{"moved", "ny", "paris"}},
		{`timezone exists`, t0, []string{"moved", "ny", "paris"}},
		{`not timezone exists`, t0, []string{"none"}},
		{`timezone != "Europe/Paris"`, t0, []string{"moved", "ny"}},
		{`not timezone = "Europe/Paris"`, t0, []string{"moved", "none", "ny"}},
	})
}

func TestCompileSegmentReferences(t *testing.T) {
	h := time.Hour
	rules := map[string]string{
		"fr":     `country = "FR"`,
		"active": `event page_view within 1h`,
		"both":   `segment "fr" and segment "active"`,
		"nested": `not segment "both"`,
	}
	resolve := func(id string) (segments.Rule, bool) {
		text, ok := rules[id]
		if !ok {
			return segments.Rule{}, false
		}
		r, err := segments.ParseText(text)
		require.NoError(t, err)
		return r, true
	}
	checkMembership(t, []row{
		{sub: "frNow", typ: "page_view", country: "FR", at: t0.Add(-30 * time.Minute)},
		{sub: "frOld", typ: "page_view", country: "FR", at: t0.Add(-2 * h)},
		{sub: "de", typ: "page_view", country: "DE", at: t0.Add(-30 * time.Minute)},
	}, resolve, []membershipCase{
		{`segment "fr"`, t0, []string{"frNow", "frOld"}},
		{`segment "both"`, t0, []string{"frNow"}},
		{`segment "both"`, t0.Add(-h), []string{}},
		{`segment "both"`, t0.Add(-h - time.Millisecond), []string{"frOld"}},
		{`segment "nested"`, t0, []string{"de", "frOld"}},
		{`segment "nested" and event page_view within 1h`, t0, []string{"de"}},
		{`not segment "nested" or country = "DE"`, t0, []string{"de", "frNow"}},
	})
}
