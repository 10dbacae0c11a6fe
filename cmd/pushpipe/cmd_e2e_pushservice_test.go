package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/SherClockHolmes/webpush-go"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/procs"
	"github.com/pushpipe/pushpipe/internal/testkit"
)

// The run's push service process serves the test push service on https
// with the generated certificate: a Web Push sender that trusts the
// certificate delivers to a subscription bound to its VAPID key, and the
// run's follower reads the decrypted payload from the record.
func TestE2EPushserviceChildOverTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool, err := e2eCert(dir)
	require.NoError(t, err)
	ports, err := procs.FreePorts(1)
	require.NoError(t, err)
	addr := fmt.Sprintf("127.0.0.1:%d", ports[0])

	ctx, cancel := context.WithCancel(t.Context())
	var stderr testkit.LogBuffer
	exited := make(chan int, 1)
	go func() {
		exited <- e2ePushserviceChild(ctx, &env{stderr: &stderr, stdout: &stderr}, []string{"--addr", addr, "--cert", certFile, "--key", keyFile})
	}()
	pushes := newE2EPushes("https://"+addr, pool)
	require.NoError(t, (&e2eStack{pushes: pushes, logDir: dir}).waitPushService(ctx), stderr.String())
	go pushes.follow(ctx, 10*time.Millisecond)

	vapidPriv, vapidPub, err := webpush.GenerateVAPIDKeys()
	require.NoError(t, err)
	sub, err := pushes.subscribe(ctx, vapidPub)
	require.NoError(t, err)
	require.Regexp(t, `^https://127\.0\.0\.1:\d+/push/`, sub.Endpoint)

	payload := []byte(`{"title":"Hi","push_id":"p-1","automation_id":"a-1","subscriber_id":"s-1"}`)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	resp, err := webpush.SendNotificationWithContext(ctx, payload, &webpush.Subscription{
		Endpoint: sub.Endpoint, Keys: webpush.Keys{P256dh: sub.Keys.P256dh, Auth: sub.Keys.Auth},
	}, &webpush.Options{HTTPClient: client, Subscriber: "e2e@example.com", VAPIDPublicKey: vapidPub, VAPIDPrivateKey: vapidPriv, TTL: 60})
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusCreated, resp.StatusCode)

	require.Zero(t, pushes.wait(ctx, []string{sub.ID}, 10*time.Second))
	got := pushes.of(sub.ID)
	require.Len(t, got, 1)
	require.True(t, got[0].ok(), "status %d reason %q", got[0].Status, got[0].Reason)
	require.Equal(t, e2ePayload{Title: "Hi", PushID: "p-1", AutomationID: "a-1", SubscriberID: "s-1"}, got[0].Payload)
	require.NoError(t, pushCount(got, 1))
	require.ErrorContains(t, pushCount(got, 2), "1 pushes arrived, want 2")

	other, err := pushes.subscribe(ctx, vapidPub)
	require.NoError(t, err)
	require.Equal(t, 1, pushes.wait(ctx, []string{sub.ID, other.ID}, 50*time.Millisecond), "the other subscription got nothing")

	cancel()
	require.Equal(t, 0, <-exited, stderr.String())
}

// A refused push (here: signed with another VAPID key than the
// subscription is bound to) is recorded but is not a delivered push.
func TestE2EPushCountRefused(t *testing.T) {
	refused := []e2ePush{{}}
	refused[0].Status, refused[0].Reason = http.StatusForbidden, "VAPID key does not match"
	require.ErrorContains(t, pushCount(refused, 1), "refused by the push service: status 403")
	require.NoError(t, pushCount(nil, 0))
}
