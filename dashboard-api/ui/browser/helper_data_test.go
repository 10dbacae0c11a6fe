package browser

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// arrivalTimeout bounds the wait for events to reach ClickHouse.
const arrivalTimeout = 60 * time.Second

// pageOrigin is the origin of the simulated shop's pages, an allowed origin of the site.
const pageOrigin = "https://shop.example"

// simulate sends simulated traffic to the site with `pushpipe simulate` and
// returns how many events ingest accepted.
func (st *stack) simulate(t *testing.T, siteKey string, args ...string) int {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), st.bin, append([]string{"simulate", "--ingest", st.ingest, "--site-key", siteKey, "--origin", pageOrigin}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Run(), "pushpipe simulate: %s", out.String())
	t.Logf("%s", bytes.TrimSpace(out.Bytes()))
	var sent, accepted int
	for _, line := range bytes.Split(out.Bytes(), []byte("\n")) {
		if bytes.HasPrefix(line, []byte("simulate: sent=")) {
			_, err := fmt.Sscanf(string(line), "simulate: sent=%d accepted=%d", &sent, &accepted)
			require.NoError(t, err, "read %q", line)
		}
	}
	require.Positive(t, accepted, "events accepted by ingest")
	return accepted
}

// waitEvents polls until the site has at least want events where cond
// holds, and fails after arrivalTimeout.
func (st *stack) waitEvents(t *testing.T, siteID string, want int, cond string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(arrivalTimeout)
	for {
		var n uint64
		err := st.ch.QueryRow(t.Context(), `SELECT count() FROM events WHERE site_id = ? AND (`+cond+`)`, append([]any{siteID}, args...)...).Scan(&n)
		require.NoError(t, err)
		if int(n) >= want {
			return
		}
		require.False(t, time.Now().After(deadline), "%d of %d events where %s after %s", n, want, cond, arrivalTimeout)
		time.Sleep(250 * time.Millisecond) // poll interval, not an assertion
	}
}

// subscribers returns up to n subscribed subscribers of the site.
func (st *stack) subscribers(t *testing.T, siteID string, n int) []string {
	t.Helper()
	var ids []string
	rows, err := st.ch.Query(t.Context(), `SELECT DISTINCT subscriber_id FROM events WHERE site_id = ? AND type = 'subscribed' ORDER BY subscriber_id LIMIT ?`, siteID, n)
	require.NoError(t, err)
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var id string
		require.NoError(t, rows.Scan(&id))
		ids = append(ids, id)
	}
	require.NoError(t, rows.Err())
	require.NotEmpty(t, ids, "subscribed subscribers of the simulated site")
	return ids
}

// pushBeacons sends, for each subscriber, what the service worker sends
// after a push of the campaign or automation: push_delivered, and for every
// other subscriber push_clicked. It returns how many events it sent.
func (st *stack) pushBeacons(t *testing.T, siteKey string, subscribers []string, campaignID, automationID string) int {
	t.Helper()
	var events []map[string]any
	for i, sub := range subscribers {
		pushID := randomID(t)
		base := map[string]any{"subscriber_id": sub, "push_id": pushID}
		if campaignID != "" {
			base["campaign_id"] = campaignID
		}
		if automationID != "" {
			base["automation_id"] = automationID
		}
		events = append(events, with(base, "type", "push_delivered"))
		if i%2 == 0 {
			events = append(events, with(base, "type", "push_clicked"))
		}
	}
	body, err := json.Marshal(map[string]any{"events": events})
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, st.ingest+"/v1/events?site_key="+siteKey, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", pageOrigin)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	var answer struct {
		Accepted int `json:"accepted"`
		Errors   []any
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&answer))
	require.Equal(t, http.StatusAccepted, resp.StatusCode, "push beacons refused: %v", answer.Errors)
	require.Equal(t, len(events), answer.Accepted, "push beacons accepted: %v", answer.Errors)
	return len(events)
}

func with(m map[string]any, k string, v any) map[string]any {
	out := make(map[string]any, len(m)+1)
	for key, val := range m {
		out[key] = val
	}
	out[k] = v
	return out
}

func randomID(t *testing.T) string {
	t.Helper()
	b := make([]byte, 12)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return "push-" + hex.EncodeToString(b)
}
