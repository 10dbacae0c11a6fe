package ingest

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/schemas"
)

func TestEventsAcceptsBatch(t *testing.T) {
	f := newFixture(t)
	const givenID = "0190f3a4-5b6c-7d8e-9f01-23456789abcd"
	body := beaconJSON(0,
		pageView("sub-1"),
		`{"event_id":"`+strings.ToUpper(givenID)+`","type":"custom","subscriber_id":"sub-2","name":"video_play",
		  "props":{"video":"intro","seconds":12.5,"autoplay":true}}`,
		`{"type":"conversion","subscriber_id":"sub-1","name":"purchase","revenue":49.9,"currency":"eur","campaign_id":"c-1"}`,
	)
	rec := f.do(t, request{body: body, headers: map[string]string{
		"User-Agent":      "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
		"Accept-Language": "de-AT,de;q=0.9",
	}})
	require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
	resp := decodeResponse(t, rec)
	require.Equal(t, 3, resp.Accepted)
	require.Zero(t, resp.Rejected)
	require.Empty(t, resp.Errors)

	require.Len(t, f.producer.Calls(), 1, "all events of a request in one write")
	evs := f.producer.events(t)
	require.Len(t, evs, 3)
	ids := []string{evs[0].EventID, evs[1].EventID, evs[2].EventID}
	require.Equal(t, ids, resp.EventIDs)
	require.Equal(t, givenID, evs[1].EventID, "a given event id is kept (canonical form)")
	for _, i := range []int{0, 2} {
		u, err := uuid.Parse(evs[i].EventID)
		require.NoError(t, err)
		require.EqualValues(t, 7, u.Version(), "assigned ids are UUIDv7")
	}
	for _, e := range evs {
		require.Equal(t, testSiteID, e.SiteID)
		require.True(t, testNow.Equal(e.ServerTime))
		require.True(t, testNow.Equal(e.Time), "no ts: server time")
		require.Equal(t, schemas.Device{Browser: "Firefox", BrowserVersion: "127.0", OS: "Linux", Type: "desktop", Language: "de-AT"}, e.Device)
		require.Equal(t, "203.0.113.0", e.IP)
	}
	require.Equal(t, testSiteID+":sub-2", evs[1].Key())
	require.Equal(t, schemas.EventPageView, evs[0].Type)
	require.Equal(t, "https://shop.example/", evs[0].URL)
	require.Equal(t, map[string]string{"video": "intro", "seconds": "12.5", "autoplay": "true"}, evs[1].Props)
	require.Equal(t, "EUR", evs[2].Currency)
	require.InDelta(t, 49.9, evs[2].Revenue, 1e-9)
	require.Equal(t, "c-1", evs[2].CampaignID)
	require.Empty(t, f.logs.String(), "successful requests are not logged")
}

func TestEventsRefusals(t *testing.T) {
	huge := beaconJSON(0, `{"type":"page_view","subscriber_id":"s","title":"`+strings.Repeat("x", schemas.MaxBeaconBytes)+`"}`)
	tests := []struct {
		name    string
		req     request
		status  int
		index   int
		field   string
		problem string
	}{
		{
			"missing site key",
			request{path: PathEvents, body: beaconJSON(0, pageView("s"))},
			http.StatusUnauthorized, -1, "site_key", "missing site key",
		},
		{
			"unknown site key",
			request{path: PathEvents + "?site_key=pps_nope", body: beaconJSON(0, pageView("s"))},
			http.StatusUnauthorized, -1, "site_key", "unknown site key",
		},
		{
			"absurdly long site key",
			request{path: PathEvents + "?site_key=" + strings.Repeat("k", 500), body: beaconJSON(0, pageView("s"))},
			http.StatusUnauthorized, -1, "site_key", "unknown site key",
		},
		{
			"disallowed origin",
			request{body: beaconJSON(0, pageView("s")), headers: map[string]string{"Origin": "https://evil.example"}},
			http.StatusForbidden, -1, "Origin", `origin "https://evil.example" is not allowed`,
		},
		{
			"form content type",
			request{body: beaconJSON(0, pageView("s")), headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}},
			http.StatusUnsupportedMediaType, -1, "Content-Type", "must be application/json or text/plain",
		},
		{
			"no content type",
			request{body: beaconJSON(0, pageView("s")), headers: map[string]string{"Content-Type": ""}},
			http.StatusUnsupportedMediaType, -1, "Content-Type", "must be application/json or text/plain",
		},
		{"body over the limit", request{body: huge}, http.StatusRequestEntityTooLarge, -1, "", "larger than 262144 bytes"},
		{"empty body", request{body: ""}, http.StatusBadRequest, -1, "", "body is empty"},
		{"malformed JSON", request{body: `{"events":[{"type":"page_view",}]}`}, http.StatusBadRequest, -1, "", "malformed JSON at byte 32"},
		{"no events", request{body: `{"events":[]}`}, http.StatusBadRequest, -1, "events", "at least one event"},
		{
			"too many events",
			request{body: beaconJSON(0, strings.Repeat(pageView("s")+",", 100)+pageView("s"))},
			http.StatusBadRequest, -1, "events", "has 101 events",
		},
		{"bad sent_at", request{body: `{"sent_at":"now","events":[` + pageView("s") + `]}`}, http.StatusBadRequest, -1, "sent_at", "must be an integer"},
		{
			"unknown field",
			request{body: beaconJSON(0, `{"type":"page_view","subscriber_id":"s","colour":"red"}`)},
			http.StatusBadRequest, 0, "colour", "unknown field",
		},
		{"unknown type", request{body: beaconJSON(0, `{"type":"click","subscriber_id":"s"}`)}, http.StatusBadRequest, 0, "type", `"click" is not an event type`},
		{"system type", request{body: beaconJSON(0, `{"type":"segment_entered","subscriber_id":"s"}`)}, http.StatusBadRequest, 0, "type", "produced by Pushpipe itself"},
		{"no subscriber", request{body: beaconJSON(0, `{"type":"page_view"}`)}, http.StatusBadRequest, 0, "subscriber_id", "is required"},
		{"bad event id", request{body: beaconJSON(0, `{"type":"page_view","subscriber_id":"s","event_id":"42"}`)}, http.StatusBadRequest, 0, "event_id", "must be a UUID"},
		{"custom without name", request{body: beaconJSON(0, `{"type":"custom","subscriber_id":"s"}`)}, http.StatusBadRequest, 0, "name", "is required for custom events"},
		{"push without push_id", request{body: beaconJSON(0, `{"type":"push_closed","subscriber_id":"s"}`)}, http.StatusBadRequest, 0, "push_id", "is required for push_closed events"},
		{"subscribed without subscription", request{body: beaconJSON(0, `{"type":"subscribed","subscriber_id":"s"}`)}, http.StatusBadRequest, 0, "subscription", "is required for subscribed"},
		{
			"http endpoint",
			request{body: beaconJSON(0, `{"type":"subscribed","subscriber_id":"s","subscription":{"endpoint":"http://push.example/1","p256dh":"p","auth":"a"}}`)},
			http.StatusBadRequest, 0, "subscription.endpoint", "https://",
		},
		{"negative revenue", request{body: beaconJSON(0, `{"type":"conversion","subscriber_id":"s","name":"buy","revenue":-5}`)}, http.StatusBadRequest, 0, "revenue", "must not be negative"},
		{"bad currency", request{body: beaconJSON(0, `{"type":"conversion","subscriber_id":"s","name":"buy","currency":"euro"}`)}, http.StatusBadRequest, 0, "currency", "3-letter"},
		{"nested prop", request{body: beaconJSON(0, `{"type":"page_view","subscriber_id":"s","props":{"cart":{"items":2}}}`)}, http.StatusBadRequest, 0, "props.cart", "string, number or boolean"},
		{"unknown timezone", request{body: beaconJSON(0, `{"type":"page_view","subscriber_id":"s","timezone":"Europe/Atlantis"}`)}, http.StatusBadRequest, 0, "timezone", "not an IANA timezone name"},
		{"long timezone", request{body: beaconJSON(0, `{"type":"page_view","subscriber_id":"s","timezone":"`+strings.Repeat("z", 65)+`"}`)}, http.StatusBadRequest, 0, "timezone", "at most 64"},
		{"long url", request{body: beaconJSON(0, `{"type":"page_view","subscriber_id":"s","url":"`+strings.Repeat("u", 2049)+`"}`)}, http.StatusBadRequest, 0, "url", "at most 2048"},
		{
			"too old",
			request{body: beaconJSON(0, `{"type":"page_view","subscriber_id":"s","ts":`+ms(testNow.Add(-8*24*time.Hour))+`}`)},
			http.StatusBadRequest, 0, "ts", "events older than 7 days are refused",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			rec := f.do(t, tt.req)
			require.Equal(t, tt.status, rec.Code, rec.Body.String())
			resp := decodeResponse(t, rec)
			require.Zero(t, resp.Accepted)
			require.Empty(t, resp.EventIDs)
			require.NotEmpty(t, resp.Errors)
			require.Equal(t, tt.index, resp.Errors[0].Index)
			require.Equal(t, tt.field, resp.Errors[0].Field)
			require.Contains(t, resp.Errors[0].Problem, tt.problem)
			require.Empty(t, f.producer.Calls(), "nothing produced")
		})
	}
}

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

func TestEventsPartlyInvalidBatch(t *testing.T) {
	f := newFixture(t)
	body := beaconJSON(0,
		pageView("ok-0"),
		`{"type":"custom","subscriber_id":"bad-1"}`,
		pageView("ok-2"),
		`{"type":"page_view","subscriber_id":"bad-3","props":{"a":null},"colour":1}`,
		`{"type":"push_clicked","subscriber_id":"ok-4","push_id":"p-9","action":"open"}`,
	)
	rec := f.do(t, request{body: body})
	require.Equal(t, http.StatusBadRequest, rec.Code)
	resp := decodeResponse(t, rec)
	require.Equal(t, 3, resp.Accepted)
	require.Equal(t, 2, resp.Rejected)
	require.Equal(t, []Problem{
		{Index: 1, Field: "name", Problem: "is required for custom events (the event name)"},
		{Index: 3, Field: "colour", Problem: "unknown field (check its spelling against the beacon schema)"},
	}, resp.Errors)

	evs := f.producer.events(t)
	require.Len(t, f.producer.Calls(), 1)
	subs := make([]string, 0, len(evs))
	ids := make([]string, 0, len(evs))
	for _, e := range evs {
		subs = append(subs, e.SubscriberID)
		ids = append(ids, e.EventID)
	}
	require.Equal(t, []string{"ok-0", "ok-2", "ok-4"}, subs, "exactly the valid events, in order")
	require.Equal(t, ids, resp.EventIDs)
	require.Equal(t, "p-9", evs[2].PushID)
	require.Equal(t, "open", evs[2].Action)
}

func TestEventsTextPlain(t *testing.T) {
	for _, ct := range []string{"text/plain", "text/plain;charset=UTF-8", "application/json; charset=utf-8"} {
		f := newFixture(t)
		rec := f.do(t, request{body: beaconJSON(0, pageView("s")), headers: map[string]string{"Content-Type": ct}})
		require.Equal(t, http.StatusAccepted, rec.Code, ct)
		require.Len(t, f.producer.events(t), 1, ct)
	}
}

func TestEventsSiteKeyHeader(t *testing.T) {
	f := newFixture(t)
	rec := f.do(t, request{path: PathEvents, body: beaconJSON(0, pageView("s")), headers: map[string]string{HeaderSiteKey: openKey}})
	require.Equal(t, http.StatusAccepted, rec.Code)
	require.Equal(t, openSiteID, f.producer.events(t)[0].SiteID)
}

// Without a spool, a Kafka failure refuses the beacon (with a spool, see
// spool_deliver_test.go).
func TestEventsKafkaFailureWithoutSpool(t *testing.T) {
	f := newFixture(t, func(c *Config, _ *Deps) { c.SpoolMaxBytes = 0 })
	f.producer.err = errKafkaDown
	rec := f.do(t, request{body: beaconJSON(0, pageView("a"), `{"type":"custom","subscriber_id":"b"}`)})
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	require.Equal(t, "2", rec.Header().Get("Retry-After"))
	resp := decodeResponse(t, rec)
	require.Zero(t, resp.Accepted)
	require.Empty(t, resp.EventIDs)
	require.Equal(t, 2, resp.Rejected)
	last := resp.Errors[len(resp.Errors)-1]
	require.Equal(t, -1, last.Index)
	require.Contains(t, last.Problem, "Kafka did not acknowledge")
	require.Contains(t, f.logs.String(), "leader not available", "the failure is logged")
	require.Contains(t, f.logs.String(), "site="+testSiteID)
}

func TestEventsSiteLookupFailure(t *testing.T) {
	f := newFixture(t)
	f.sites.err = errKafkaDown
	rec := f.do(t, request{body: beaconJSON(0, pageView("a"))})
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	require.Equal(t, "2", rec.Header().Get("Retry-After"))
	require.Contains(t, decodeResponse(t, rec).Errors[0].Problem, "could not be looked up")
}

func TestEventsPanicRecovered(t *testing.T) {
	f := newFixture(t)
	f.producer.panics = true
	rec := f.do(t, request{body: beaconJSON(0, pageView("a"))})
	require.Equal(t, http.StatusInternalServerError, rec.Code)
	resp := decodeResponse(t, rec)
	require.Zero(t, resp.Accepted)
	require.Contains(t, resp.Errors[0].Problem, "internal error")
	require.Contains(t, f.logs.String(), "producer exploded")
	require.Contains(t, f.logs.String(), "panic serving request")
}

func TestEventsSkewCorrection(t *testing.T) {
	f := newFixture(t)
	behind := 3 * time.Hour // the browser's clock is 3 h behind
	sentAt := testNow.Add(-behind)
	happened := testNow.Add(-10 * time.Second)
	body := beaconJSON(sentAt.UnixMilli(),
		`{"type":"page_view","subscriber_id":"a","ts":`+ms(happened.Add(-behind))+`}`,
		`{"type":"page_view","subscriber_id":"b"}`,
		`{"type":"page_view","subscriber_id":"c","ts":`+ms(testNow.Add(-behind+time.Hour))+`}`,
		`{"type":"page_view","subscriber_id":"d","ts":`+ms(testNow.Add(-behind-8*24*time.Hour))+`}`,
	)
	rec := f.do(t, request{body: body})
	require.Equal(t, http.StatusBadRequest, rec.Code)
	resp := decodeResponse(t, rec)
	require.Equal(t, []Problem{{Index: 3, Field: "ts", Problem: "is 8 days in the past after clock-skew correction; events older than 7 days are refused"}}, resp.Errors)
	evs := f.producer.events(t)
	require.Len(t, evs, 3)
	require.True(t, happened.Equal(evs[0].Time), "corrected: %s", evs[0].Time)
	require.True(t, happened.Add(-behind).Equal(evs[0].ClientTime), "the browser's reading is kept")
	require.True(t, testNow.Equal(evs[1].Time), "no ts: server time")
	require.True(t, testNow.Equal(evs[2].Time), "an hour in the future after correction: clamped to server time")
	for _, e := range evs {
		require.True(t, testNow.Equal(e.ServerTime))
	}
}

func TestEventsIPAnonymisation(t *testing.T) {
	tests := []struct {
		name    string
		key     string
		remote  string
		xff     string
		proxies []string
		want    string
	}{
		{"v4 keeps /24", testKey, "198.51.100.123:5000", "", nil, "198.51.100.0"},
		{"v6 keeps /48", testKey, "[2001:db8:1234:5678:9abc::1]:5000", "", nil, "2001:db8:1234::"},
		{"site opted out: full v4", openKey, "198.51.100.123:5000", "", nil, "198.51.100.123"},
		{"site opted out: full v6", openKey, "[2001:db8:1234:5678:9abc::1]:5000", "", nil, "2001:db8:1234:5678:9abc::1"},
		{"untrusted X-Forwarded-For ignored", testKey, "198.51.100.123:5000", "192.0.2.55", nil, "198.51.100.0"},
		{"trusted proxy's X-Forwarded-For believed", openKey, "10.1.2.3:5000", "192.0.2.55", []string{"10.0.0.0/8"}, "192.0.2.55"},
		{"trusted proxy, anonymised", testKey, "10.1.2.3:5000", "8.8.4.4, 192.0.2.55", []string{"10.0.0.0/8"}, "192.0.2.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(c *Config, _ *Deps) { c.TrustedProxies = tt.proxies })
			rec := f.do(t, request{
				path: PathEvents + "?site_key=" + tt.key, remote: tt.remote,
				body: beaconJSON(0, pageView("s")), headers: map[string]string{"X-Forwarded-For": tt.xff},
			})
			require.Equal(t, http.StatusAccepted, rec.Code)
			require.Equal(t, tt.want, f.producer.events(t)[0].IP)
		})
	}
}

func TestEventsDeviceAndLanguage(t *testing.T) {
	f := newFixture(t)
	iphone := "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
	rec := f.do(t, request{
		body:    beaconJSON(0, pageView("a"), `{"type":"page_view","subscriber_id":"b","language":"fr-CA"}`),
		headers: map[string]string{"User-Agent": iphone, "Accept-Language": "en-GB,en;q=0.8"},
	})
	require.Equal(t, http.StatusAccepted, rec.Code)
	evs := f.producer.events(t)
	require.Equal(t, schemas.Device{Browser: "Safari", BrowserVersion: "17.5", OS: "iOS", Type: "mobile", Language: "en-GB"}, evs[0].Device)
	require.Equal(t, "fr-CA", evs[1].Device.Language, "the event's own language wins")
}

func TestEventsTimezone(t *testing.T) {
	f := newFixture(t)
	rec := f.do(t, request{body: beaconJSON(0,
		`{"type":"page_view","subscriber_id":"a","timezone":"America/New_York"}`,
		pageView("b"),
		`{"type":"page_view","subscriber_id":"c","timezone":"Moon/Tranquility"}`,
	)})
	require.Equal(t, http.StatusBadRequest, rec.Code, "one bad event makes the answer a 400")
	resp := decodeResponse(t, rec)
	require.Equal(t, 2, resp.Accepted)
	require.Equal(t, []Problem{{
		Index: 2, Field: "timezone",
		Problem: `"Moon/Tranquility" is not an IANA timezone name such as Europe/Paris; send Intl.DateTimeFormat().resolvedOptions().timeZone, or leave it out`,
	}}, resp.Errors)
	evs := f.producer.events(t)
	require.Len(t, evs, 2)
	require.Equal(t, "America/New_York", evs[0].Timezone, "the browser's zone is kept on the event")
	require.Empty(t, evs[1].Timezone, "absent stays empty")

	raw := f.producer.Calls()[0][1].Value
	require.NotContains(t, string(raw), `"timezone"`, "an event without a zone does not carry the key")
}

func TestEventsSubscription(t *testing.T) {
	f := newFixture(t)
	rec := f.do(t, request{body: beaconJSON(0, `{"type":"subscribed","subscriber_id":"a","subscription":
		{"endpoint":"https://fcm.googleapis.com/fcm/send/abc","p256dh":"BNc","auth":"tBH","expiration_time":1767225600000}}`)})
	require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
	sub := f.producer.events(t)[0].Subscription
	require.NotNil(t, sub)
	require.Equal(t, "https://fcm.googleapis.com/fcm/send/abc", sub.Endpoint)
	require.Equal(t, "BNc", sub.P256dh)
	require.Equal(t, "tBH", sub.Auth)
	require.True(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Equal(*sub.ExpirationTime))
}
