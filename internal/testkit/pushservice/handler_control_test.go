package pushservice

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	webpush "github.com/SherClockHolmes/webpush-go"
	"github.com/stretchr/testify/require"
)

// call makes a control API request and returns the status and body.
func call(t *testing.T, method, url, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, url, strings.NewReader(body))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer func() { require.NoError(t, resp.Body.Close()) }()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, raw
}

func TestControlAPIScriptsASubscriptionAndShowsWhatArrived(t *testing.T) {
	s := start(t)
	app := newSender(t)
	status, raw := call(t, http.MethodPost, s.URL()+"/subscriptions", `{"script":[{"status":429,"retry_after":"7"}]}`)
	require.Equal(t, http.StatusCreated, status, string(raw))
	var created struct {
		ID string `json:"id"`
		webpush.Subscription
	}
	require.NoError(t, json.Unmarshal(raw, &created)) // the browser's PushSubscription JSON
	sub := Subscription{ID: created.ID, Endpoint: created.Endpoint, P256dh: created.Keys.P256dh, Auth: created.Keys.Auth}

	resp, err := app.send(t, sub, []byte("first"), app.options())
	require.NoError(t, err)
	require.Equal(t, http.StatusTooManyRequests, resp.status)
	require.Equal(t, "7", resp.header.Get("Retry-After"))
	resp, err = app.send(t, sub, []byte("second"), app.options())
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, resp.status)

	status, raw = call(t, http.MethodGet, s.URL()+"/subscriptions/"+sub.ID+"/deliveries", "")
	require.Equal(t, http.StatusOK, status)
	var got []Delivery
	require.NoError(t, json.Unmarshal(raw, &got))
	require.Len(t, got, 2)
	require.Equal(t, "first", string(got[0].Plaintext))
	require.Equal(t, 429, got[0].Status)
	require.Equal(t, "second", string(got[1].Plaintext))
	require.Equal(t, app.pub, got[1].Claims.Key)

	status, raw = call(t, http.MethodPut, s.URL()+"/subscriptions/"+sub.ID+"/behaviour", `{"then":{"status":410}}`)
	require.Equal(t, http.StatusNoContent, status, string(raw))
	resp, err = app.send(t, sub, []byte("third"), app.options())
	require.NoError(t, err)
	require.Equal(t, http.StatusGone, resp.status)

	status, raw = call(t, http.MethodGet, s.URL()+"/counts", "")
	require.Equal(t, http.StatusOK, status)
	var c Counts
	require.NoError(t, json.Unmarshal(raw, &c))
	require.Equal(t, Counts{Requests: 3, Delivered: 1, ByStatus: map[int]int{201: 1, 410: 1, 429: 1}}, c)
}

func TestControlAPIBindsASubscriptionToAKey(t *testing.T) {
	s := start(t)
	owner, other := newSender(t), newSender(t)
	status, raw := call(t, http.MethodPost, s.URL()+"/subscriptions", `{"application_server_key":"`+owner.pub+`"}`)
	require.Equal(t, http.StatusCreated, status, string(raw))
	var ws webpush.Subscription
	require.NoError(t, json.Unmarshal(raw, &ws))
	sub := Subscription{Endpoint: ws.Endpoint, P256dh: ws.Keys.P256dh, Auth: ws.Keys.Auth}

	resp, err := other.send(t, sub, []byte("x"), other.options())
	require.NoError(t, err)
	require.Equal(t, http.StatusForbidden, resp.status)
	resp, err = owner.send(t, sub, []byte("x"), owner.options())
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, resp.status)
}

func TestControlAPIRefusesBadRequests(t *testing.T) {
	s := start(t)
	tests := []struct {
		name, method, path, body string
		status                   int
	}{
		{"unknown field", http.MethodPost, "/subscriptions", `{"scrpit":[]}`, 400},
		{"bad delay", http.MethodPost, "/subscriptions", `{"then":{"delay":"soon"}}`, 400},
		{"status out of range", http.MethodPost, "/subscriptions", `{"script":[{"status":99}]}`, 400},
		{"bad key", http.MethodPost, "/subscriptions", `{"application_server_key":"nope"}`, 400},
		{"behaviour of an unknown subscription", http.MethodPut, "/subscriptions/nope/behaviour", `{}`, 404},
		{"GET on a push endpoint", http.MethodGet, "/push/nope", "", 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, raw := call(t, tt.method, s.URL()+tt.path, tt.body)
			require.Equal(t, tt.status, status, string(raw))
		})
	}
}
