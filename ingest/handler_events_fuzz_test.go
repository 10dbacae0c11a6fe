package ingest

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/schemas"
)

// FuzzBeacon drives arbitrary bodies through the real handler (decode,
// validate, enrich, produce to a fake): it must never panic or answer 5xx, and
// what it says it accepted must be exactly what it produced. Seeds live in
// testdata/fuzz/FuzzBeacon; run with go test -fuzz=FuzzBeacon ./ingest.
func FuzzBeacon(f *testing.F) {
	f.Add([]byte(beaconJSON(1_748_779_200_000, pageView("a"), `{"type":"custom","subscriber_id":"b","name":"x","props":{"k":1}}`)))
	f.Add([]byte(`{"events":[{"type":"subscribed","subscriber_id":"s","subscription":{"endpoint":"https://a.b/c","p256dh":"p","auth":"a","expiration_time":1}}]}`))
	f.Add([]byte(`{"events":[{"type":"conversion","subscriber_id":"s","name":"n","revenue":1e308,"currency":"usd","ts":1}]}`))
	f.Add([]byte(`{"events":[null,[],"x",{"type":"page_view","subscriber_id":"s","props":{"a":{"b":[]}}}]}`))
	fx := newFixture(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := fx.do(t, request{body: string(body)})
		require.Less(t, rec.Code, http.StatusInternalServerError, "body %q: %s", body, rec.Body.String())
		require.Contains(t, []int{http.StatusAccepted, http.StatusBadRequest, http.StatusRequestEntityTooLarge}, rec.Code)
		resp := decodeResponse(t, rec)
		require.Len(t, resp.EventIDs, resp.Accepted)
		require.Equal(t, rec.Code == http.StatusAccepted, len(resp.Errors) == 0, "202 exactly when nothing is wrong")
		for _, p := range resp.Errors {
			require.GreaterOrEqual(t, p.Index, -1)
			require.NotEmpty(t, p.Problem)
		}

		var produced []string
		for _, call := range fx.producer.take() {
			for _, m := range call {
				var e schemas.Event
				require.NoError(t, json.Unmarshal(m.Value, &e))
				require.Equal(t, testSiteID, e.SiteID)
				require.NotEmpty(t, e.SubscriberID)
				require.True(t, e.Type.IsBeacon())
				require.False(t, e.Time.IsZero())
				produced = append(produced, e.EventID)
			}
		}
		if resp.Accepted == 0 {
			require.Empty(t, produced)
			return
		}
		require.Equal(t, resp.EventIDs, produced, "accepted exactly what was produced")
	})
}
