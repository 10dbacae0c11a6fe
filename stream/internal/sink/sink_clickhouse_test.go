package sink

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/testkit/testdb"
	"github.com/pushpipe/pushpipe/schemas"
)

// These tests use the real ClickHouse (PUSHPIPE_CLICKHOUSE). Each writes
// under a fresh site_id and a topic name of its own, so the shared events
// and sink_progress tables are never truncated.

func openStore(t testing.TB) (*ClickHouse, driver.Conn) {
	t.Helper()
	conn := testdb.ClickHouse(t)
	return NewClickHouse(conn), conn
}

func uniqueTopic() string { return "test.sink." + uuid.NewString()[:8] }

func fullEvent(site string) schemas.Event {
	at := time.Date(2026, 3, 4, 5, 6, 7, 891_000_000, time.UTC)
	exp := at.Add(24 * time.Hour)
	return schemas.Event{
		EventID: uuid.NewString(), SiteID: site, SubscriberID: "sub", ExternalID: "ext", SessionID: "sess",
		Type: schemas.EventConversion, Name: "purchase",
		Time: at, ClientTime: at.Add(-time.Second), ServerTime: at.Add(time.Second),
		URL: "https://example.com/p", Referrer: "https://ref.example", Title: "Title",
		Props:   map[string]string{"plan": "pro", "seats": "3"},
		Revenue: 12.5, Currency: "EUR",
		Device:   schemas.Device{Browser: "Firefox", BrowserVersion: "140", OS: "Linux", Type: "desktop", Language: "de-DE"},
		Geo:      schemas.Geo{Country: "DE", Region: "BE", City: "Berlin"},
		Timezone: "Europe/Berlin",
		IP:       "203.0.113.0", PushID: "push", CampaignID: "camp", AutomationID: "auto", Action: "open",
		PromptVariant: "b", SegmentID: "seg", Reason: "why",
		Subscription: &schemas.Subscription{Endpoint: "https://push.example/x", P256dh: "key", Auth: "auth", ExpirationTime: &exp},
	}
}

func rowOf(t testing.TB, ev schemas.Event, offset int64) Row {
	t.Helper()
	v, err := json.Marshal(ev)
	require.NoError(t, err)
	row, reason := decode(v)
	require.Empty(t, reason)
	row.Offset = offset
	return row
}

func TestClickHouseInsertMapsEveryColumn(t *testing.T) {
	store, conn := openStore(t)
	site, topic := uuid.NewString(), uniqueTopic()
	ev := fullEvent(site)
	require.NoError(t, store.InsertBatch(t.Context(), &Batch{Topic: topic, Partition: 2, Rows: []Row{rowOf(t, ev, 41)}}))

	var got struct {
		ID                                                       uuid.UUID
		Site, Sub, Ext, Sess, Type, Name                         string
		Time, Client, Server                                     time.Time
		URL, Ref, Title                                          string
		Props                                                    map[string]string
		Revenue                                                  float64
		Currency, Browser, BrowserVersion, OS, DevType, Language string
		Country, Region, City, Timezone, IP                      string
		Push, Campaign, Automation, Action, Variant, Segment     string
		Reason, Endpoint, P256dh, Auth, Topic                    string
		Partition                                                uint32
		Offset                                                   uint64
	}
	require.NoError(t, conn.QueryRow(t.Context(), `SELECT event_id, site_id, subscriber_id, external_id, session_id, type, name,
		time, client_time, server_time, url, referrer, title, props, revenue, currency,
		browser, browser_version, os, device_type, language, country, region, city, timezone, ip,
		push_id, campaign_id, automation_id, action, prompt_variant, segment_id, reason,
		endpoint, p256dh, auth, kafka_topic, kafka_partition, kafka_offset
		FROM events WHERE site_id = ?`, site).Scan(
		&got.ID, &got.Site, &got.Sub, &got.Ext, &got.Sess, &got.Type, &got.Name,
		&got.Time, &got.Client, &got.Server, &got.URL, &got.Ref, &got.Title, &got.Props, &got.Revenue, &got.Currency,
		&got.Browser, &got.BrowserVersion, &got.OS, &got.DevType, &got.Language, &got.Country, &got.Region, &got.City, &got.Timezone, &got.IP,
		&got.Push, &got.Campaign, &got.Automation, &got.Action, &got.Variant, &got.Segment, &got.Reason,
		&got.Endpoint, &got.P256dh, &got.Auth, &got.Topic, &got.Partition, &got.Offset))

	require.Equal(t, ev.EventID, got.ID.String())
	require.Equal(t, []string{site, "sub", "ext", "sess", "conversion", "purchase"},
		[]string{got.Site, got.Sub, got.Ext, got.Sess, got.Type, got.Name})
	require.True(t, ev.Time.Equal(got.Time), "time %s != %s", ev.Time, got.Time)
	require.True(t, ev.ClientTime.Equal(got.Client))
	require.True(t, ev.ServerTime.Equal(got.Server))
	require.Equal(t, []string{"https://example.com/p", "https://ref.example", "Title"}, []string{got.URL, got.Ref, got.Title})
	require.Equal(t, ev.Props, got.Props)
	require.Equal(t, 12.5, got.Revenue)
	require.Equal(t, []string{"EUR", "Firefox", "140", "Linux", "desktop", "de-DE", "DE", "BE", "Berlin", "Europe/Berlin", "203.0.113.0"},
		[]string{got.Currency, got.Browser, got.BrowserVersion, got.OS, got.DevType, got.Language, got.Country, got.Region, got.City, got.Timezone, got.IP})
	require.Equal(t, []string{"push", "camp", "auto", "open", "b", "seg", "why"},
		[]string{got.Push, got.Campaign, got.Automation, got.Action, got.Variant, got.Segment, got.Reason})
	require.Equal(t, []string{"https://push.example/x", "key", "auth"}, []string{got.Endpoint, got.P256dh, got.Auth})
	require.Equal(t, topic, got.Topic)
	require.Equal(t, uint32(2), got.Partition)
	require.Equal(t, uint64(41), got.Offset)
}

func TestClickHouseSubscribersKeepTheLatestTimezone(t *testing.T) {
	store, conn := openStore(t)
	site, topic := uuid.NewString(), uniqueTopic()
	at := time.Now().UTC().Truncate(time.Millisecond)
	sub := &schemas.Subscription{Endpoint: "https://push.example/tz", P256dh: "key", Auth: "auth"}
	subscribed := func(subscriber, tz string, at time.Time) schemas.Event {
		return schemas.Event{
			EventID: uuid.NewString(), SiteID: site, SubscriberID: subscriber, Type: schemas.EventSubscribed,
			Time: at, Timezone: tz, Subscription: sub,
		}
	}
	rows := []Row{
		rowOf(t, subscribed("s1", "America/New_York", at), 1),
		rowOf(t, subscribed("s2", "", at), 2),
		rowOf(t, subscribed("s1", "Europe/Paris", at.Add(time.Second)), 3),
	}
	require.NoError(t, store.InsertBatch(t.Context(), &Batch{Topic: topic, Partition: 0, Rows: rows}))

	got := map[string]string{}
	r, err := conn.Query(t.Context(),
		`SELECT subscriber_id, timezone FROM subscribers FINAL WHERE site_id = ? ORDER BY subscriber_id`, site)
	require.NoError(t, err)
	defer func() { require.NoError(t, r.Close()) }()
	for r.Next() {
		var id, tz string
		require.NoError(t, r.Scan(&id, &tz))
		got[id] = tz
	}
	require.NoError(t, r.Err())
	require.Equal(t, map[string]string{"s1": "Europe/Paris", "s2": ""}, got)
}

func TestClickHouseSameBatchTwiceIsStoredOnce(t *testing.T) {
	store, conn := openStore(t)
	site, topic := uuid.NewString(), uniqueTopic()
	batch := func() *Batch {
		b := &Batch{Topic: topic, Partition: 0}
		for i := range 10 {
			b.Rows = append(b.Rows, rowOf(t, schemas.Event{
				EventID: uuid.NewString(), SiteID: site, Type: "page_view",
				Time: time.Now().UTC(),
			}, int64(100+i)))
		}
		return b
	}
	count := func() uint64 {
		var n uint64
		require.NoError(t, conn.QueryRow(t.Context(), `SELECT count() FROM events WHERE site_id = ?`, site).Scan(&n))
		return n
	}
	b := batch()
	require.NoError(t, store.InsertBatch(t.Context(), b))
	require.NoError(t, store.InsertBatch(t.Context(), b), "a retry is accepted")
	require.Equal(t, uint64(10), count(), "and dropped")
	require.NoError(t, store.InsertBatch(t.Context(), batch()))
	require.Equal(t, uint64(10), count(), "the token (topic, partition, offsets) identifies a batch, not its content")
}

func TestClickHouseWatermark(t *testing.T) {
	store, _ := openStore(t)
	site, topic := uuid.NewString(), uniqueTopic()
	insert := func(p int, offsets ...int64) {
		b := &Batch{Topic: topic, Partition: p}
		for _, o := range offsets {
			b.Rows = append(b.Rows, rowOf(t, schemas.Event{
				EventID: uuid.NewString(), SiteID: site, Type: "custom",
				Time: time.Now().UTC(),
			}, o))
		}
		require.NoError(t, store.InsertBatch(t.Context(), b))
	}
	watermark := func(p int) (int64, bool) {
		wm, ok, err := store.Watermark(t.Context(), topic, p)
		require.NoError(t, err)
		return wm, ok
	}

	_, ok := watermark(0)
	require.False(t, ok, "nothing stored")
	insert(0, 0)
	wm, ok := watermark(0)
	require.True(t, ok, "offset 0 stored is not 'nothing stored'")
	require.Equal(t, int64(0), wm)
	insert(0, 5, 6, 7)
	insert(1, 3)
	wm, ok = watermark(0)
	require.True(t, ok)
	require.Equal(t, int64(7), wm)
	wm, _ = watermark(1)
	require.Equal(t, int64(3), wm, "partitions are separate")

	// The dedup window's refill: ids above an offset, in offset order, of one partition.
	ids, err := store.RecentIDs(t.Context(), topic, 0, 5)
	require.NoError(t, err)
	want := store.idsOf(t, topic, 0, 6, 7)
	require.Equal(t, want, ids)
	ids, err = store.RecentIDs(t.Context(), topic, 0, -100)
	require.NoError(t, err)
	require.Len(t, ids, 4, "a window reaching below offset 0 takes the whole partition")
}

// idsOf reads the event ids stored at the given offsets, in that order.
func (c *ClickHouse) idsOf(t *testing.T, topic string, partition int, offsets ...int64) []uuid.UUID {
	t.Helper()
	out := make([]uuid.UUID, 0, len(offsets))
	for _, o := range offsets {
		var id uuid.UUID
		require.NoError(t, c.conn.QueryRow(t.Context(), `SELECT event_id FROM events WHERE kafka_topic = ? AND kafka_partition = ? AND kafka_offset = ?`,
			topic, uint32(partition), uint64(o)).Scan(&id))
		out = append(out, id)
	}
	return out
}

func TestClickHouseAbsurdTimesDoNotFailTheBatch(t *testing.T) {
	store, conn := openStore(t)
	site := uuid.NewString()
	ev := schemas.Event{
		EventID: uuid.NewString(), SiteID: site, Type: "custom",
		ClientTime: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), ServerTime: time.Date(1, 2, 3, 0, 0, 0, 0, time.UTC),
	}
	require.NoError(t, store.InsertBatch(t.Context(), &Batch{Topic: uniqueTopic(), Rows: []Row{rowOf(t, ev, 0)}}))
	var at, client, server time.Time
	require.NoError(t, conn.QueryRow(t.Context(), `SELECT time, client_time, server_time FROM events WHERE site_id = ?`, site).
		Scan(&at, &client, &server))
	require.Equal(t, int64(0), at.Unix(), "a zero time is stored as the epoch")
	require.Equal(t, 2262, client.Year(), "clamped to what DateTime64 can encode")
	require.Equal(t, 1900, server.Year())
}

// BenchmarkEncodeAppend measures the sink's per-event work: JSON decode
// plus the append into a real ClickHouse batch (sent nowhere). Its reference
// is json.Unmarshal of the same message alone, run beside it: the sink's
// overhead is the difference.
func BenchmarkEncodeAppend(b *testing.B) {
	v, err := json.Marshal(fullEvent("bench-site"))
	require.NoError(b, err)
	b.Run("reference=json.Unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var ev schemas.Event
			_ = json.Unmarshal(v, &ev)
		}
	})
	b.Run("decode+rowValues", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			row, _ := decode(v)
			_ = rowValues(&row, "events.v1", 0)
		}
	})
	b.Run("decode+append", func(b *testing.B) {
		store, _ := openStore(b)
		prepare := func() driver.Batch {
			batch, err := store.conn.PrepareBatch(b.Context(), insertEvents)
			require.NoError(b, err)
			return batch
		}
		batch := prepare()
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			row, _ := decode(v)
			row.Offset = int64(n)
			if err := batch.Append(rowValues(&row, "events.v1", 0)...); err != nil {
				b.Fatal(err)
			}
			if n++; n%5000 == 0 { // a batch's worth: start over, to bound memory
				b.StopTimer()
				_ = batch.Abort()
				batch = prepare()
				b.StartTimer()
			}
		}
		_ = batch.Abort()
	})
}
