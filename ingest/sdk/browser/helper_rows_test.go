package browser

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// arrivalTimeout bounds how long a scenario waits for its events to reach
// ClickHouse (browser → ingest → Kafka → stream sink). Rows usually arrive
// within a second or two; the margin covers a consumer-group rebalance when
// other test packages start and stop sink processes at the same time.
const arrivalTimeout = 30 * time.Second

// stored is one row of the events table, with the columns the scenarios check.
type stored struct {
	EventID       string            `ch:"event_id"`
	Type          string            `ch:"type"`
	Name          string            `ch:"name"`
	SubscriberID  string            `ch:"subscriber_id"`
	ExternalID    string            `ch:"external_id"`
	SessionID     string            `ch:"session_id"`
	URL           string            `ch:"url"`
	Props         map[string]string `ch:"props"`
	Revenue       float64           `ch:"revenue"`
	Currency      string            `ch:"currency"`
	PromptVariant string            `ch:"prompt_variant"`
	Endpoint      string            `ch:"endpoint"`
	P256dh        string            `ch:"p256dh"`
	Auth          string            `ch:"auth"`
	PushID        string            `ch:"push_id"`
	CampaignID    string            `ch:"campaign_id"`
	Action        string            `ch:"action"`
	Timezone      string            `ch:"timezone"`
}

const storedColumns = `toString(event_id) AS event_id, toString(type) AS type, toString(name) AS name, subscriber_id,
	external_id, session_id, url, CAST(props, 'Map(String, String)') AS props, revenue, toString(currency) AS currency,
	toString(prompt_variant) AS prompt_variant, endpoint, p256dh, auth, push_id, campaign_id, action,
	toString(timezone) AS timezone`

// waitRows polls until the site's events matching where (a SQL condition
// with ? placeholders for args) number at least want or arrivalTimeout
// passes, then requires exactly want rows with want distinct event ids: each
// event stored once. It returns the rows, oldest first.
func waitRows(t *testing.T, sc *scene, want int, where string, args ...any) []stored {
	t.Helper()
	deadline := time.Now().Add(arrivalTimeout)
	var rows, distinct uint64
	for {
		err := sc.ch.QueryRow(t.Context(), `SELECT count(), uniqExact(event_id) FROM events WHERE site_id = ? AND (`+where+`)`,
			append([]any{sc.site.ID}, args...)...).Scan(&rows, &distinct)
		require.NoError(t, err, "count events where %s", where)
		if int(rows) >= want || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond) // poll interval, not an assertion
	}
	require.Equal(t, want, int(rows), "events where %s %v: rows in ClickHouse", where, args)
	require.Equal(t, want, int(distinct), "events where %s %v: distinct event ids", where, args)
	return selectRows(t, sc, where, args...)
}

// selectRows reads the site's events matching where, oldest first.
func selectRows(t *testing.T, sc *scene, where string, args ...any) []stored {
	t.Helper()
	var out []stored
	err := sc.ch.Select(t.Context(), &out, `SELECT `+storedColumns+` FROM events WHERE site_id = ? AND (`+where+`) ORDER BY time, event_id`,
		append([]any{sc.site.ID}, args...)...)
	require.NoError(t, err, "select events where %s", where)
	return out
}

// requireTypeCounts requires that one subscriber has exactly the given
// number of events of each listed type, each event id stored once. It reads
// what is stored now, so call it after a fence (see tab.fence).
func requireTypeCounts(t *testing.T, sc *scene, subscriberID string, want map[string]int) {
	t.Helper()
	for typ, n := range want {
		var rows, distinct uint64
		err := sc.ch.QueryRow(t.Context(), `SELECT count(), uniqExact(event_id) FROM events WHERE site_id = ? AND subscriber_id = ? AND type = ?`,
			sc.site.ID, subscriberID, typ).Scan(&rows, &distinct)
		require.NoError(t, err)
		require.Equal(t, n, int(rows), "%s events of subscriber %s", typ, subscriberID)
		require.Equal(t, n, int(distinct), "distinct %s event ids of subscriber %s", typ, subscriberID)
	}
}

// subscriberStatus is the subscriber's current row of the subscribers table (FINAL: the latest event wins).
func subscriberStatus(t *testing.T, sc *scene, subscriberID string) (status, endpoint string) {
	t.Helper()
	err := sc.ch.QueryRow(t.Context(), `SELECT toString(status), endpoint FROM subscribers FINAL WHERE site_id = ? AND subscriber_id = ?`,
		sc.site.ID, subscriberID).Scan(&status, &endpoint)
	require.NoError(t, err, "subscribers row of %s", subscriberID)
	return status, endpoint
}
