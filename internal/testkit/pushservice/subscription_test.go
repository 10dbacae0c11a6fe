package pushservice

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	webpush "github.com/SherClockHolmes/webpush-go"
	"github.com/stretchr/testify/require"
)

func TestNewSubscriptionGivesBrowserShapedKeys(t *testing.T) {
	s := start(t)
	sub := s.NewSubscription(Behaviour{})
	require.Equal(t, s.URL()+"/push/"+sub.ID, sub.Endpoint)
	require.Len(t, unb64(t, sub.P256dh), 65)
	require.Equal(t, byte(0x04), unb64(t, sub.P256dh)[0]) // uncompressed point
	require.Len(t, unb64(t, sub.Auth), 16)
	require.NotEqual(t, sub.ID, s.NewSubscription(Behaviour{}).ID)

	var js struct {
		Endpoint string            `json:"endpoint"`
		Keys     map[string]string `json:"keys"`
	}
	raw, err := json.Marshal(sub)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &js))
	require.Equal(t, sub.Endpoint, js.Endpoint)
	require.Equal(t, map[string]string{"p256dh": sub.P256dh, "auth": sub.Auth}, js.Keys)
}

func TestScriptedAnswersAreReturnedAsScripted(t *testing.T) {
	s := start(t)
	app := newSender(t)
	tests := []struct {
		answer     Answer
		status     int
		retryAfter string
	}{
		{Answer{}, 201, ""},
		{Answer{Status: 404}, 404, ""},
		{Answer{Status: 410}, 410, ""},
		{Answer{Status: 413}, 413, ""},
		{Answer{Status: 429, RetryAfter: "30"}, 429, "30"},
		{Answer{Status: 429, RetryAfter: "Wed, 21 Oct 2065 07:28:00 GMT"}, 429, "Wed, 21 Oct 2065 07:28:00 GMT"},
		{Answer{Status: 500}, 500, ""},
		{Answer{Status: 503, RetryAfter: "5"}, 503, "5"},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status)+" "+tt.retryAfter, func(t *testing.T) {
			sub := s.NewSubscription(Always(tt.answer))
			for range 2 {
				resp, err := app.send(t, sub, []byte("hello"), app.options())
				require.NoError(t, err)
				require.Equal(t, tt.status, resp.status)
				require.Equal(t, tt.retryAfter, resp.header.Get("Retry-After"))
			}
			for _, d := range s.Received(sub.ID) {
				require.Equal(t, tt.status, d.Status)
				require.Equal(t, tt.retryAfter, d.RetryAfter)
				require.Equal(t, "hello", string(d.Plaintext)) // checked and decrypted before the scripted answer
				require.Empty(t, d.Reason)
			}
		})
	}
}

func TestScriptRunsInOrderThenAnswersThen(t *testing.T) {
	s := start(t)
	app := newSender(t)
	sub := s.NewSubscription(Behaviour{Script: []Answer{{Status: 429, RetryAfter: "1"}, {Status: 500}}, Then: Answer{Status: 410}})
	var got []int
	for range 4 {
		resp, err := app.send(t, sub, []byte("x"), app.options())
		require.NoError(t, err)
		got = append(got, resp.status)
	}
	require.Equal(t, []int{429, 500, 410, 410}, got)

	require.True(t, s.SetBehaviour(sub.ID, Sequence(Answer{Status: 500})))
	require.False(t, s.SetBehaviour("unknown", Behaviour{}))
	got = nil
	for range 2 {
		resp, err := app.send(t, sub, []byte("x"), app.options())
		require.NoError(t, err)
		got = append(got, resp.status)
	}
	require.Equal(t, []int{500, 201}, got)
}

func TestConcurrentRequestsConsumeTheScriptOnce(t *testing.T) {
	s := start(t)
	app := newSender(t)
	sub := s.NewSubscription(Sequence(Answer{Status: 429}, Answer{Status: 429}, Answer{Status: 429}, Answer{Status: 500}))
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			_, _ = app.send(t, sub, []byte("x"), app.options())
		})
	}
	wg.Wait()
	require.Len(t, s.Received(sub.ID), 20)
	require.Equal(t, Counts{Requests: 20, Delivered: 16, ByStatus: map[int]int{429: 3, 500: 1, 201: 16}}, s.Counts())
}

// clientWithTimeout is webpush-go's HTTP client, giving up after d.
func clientWithTimeout(app sender, d time.Duration) *webpush.Options {
	o := app.options()
	o.HTTPClient = &http.Client{Timeout: d}
	return o
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestSlowAnswerComesAfterTheDelay(t *testing.T) {
	s := start(t)
	app := newSender(t)
	sub := s.NewSubscription(Always(Answer{Delay: 150 * time.Millisecond}))
	began := time.Now()
	resp, err := app.send(t, sub, []byte("x"), app.options())
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, resp.status)
	require.GreaterOrEqual(t, time.Since(began), 150*time.Millisecond)
}

func TestSlowAnswerOutlivingTheClientIsRecordedAsGivenUp(t *testing.T) {
	s := start(t)
	app := newSender(t)
	sub := s.NewSubscription(Always(Answer{Delay: time.Minute}))
	_, err := app.send(t, sub, []byte("x"), clientWithTimeout(app, 100*time.Millisecond))
	require.True(t, isTimeout(err), "want a client timeout, got %v", err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := s.WaitReceived(ctx, sub.ID, 1)
	require.NoError(t, err)
	require.Equal(t, 0, got[0].Status)
	require.Equal(t, "x", string(got[0].Plaintext))
}

func TestHangHoldsUntilTheClientGivesUp(t *testing.T) {
	s := start(t)
	app := newSender(t)
	sub := s.NewSubscription(Always(Answer{Hang: true}))
	_, err := app.send(t, sub, []byte("x"), clientWithTimeout(app, 200*time.Millisecond))
	require.True(t, isTimeout(err), "want a client timeout, got %v", err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := s.WaitReceived(ctx, sub.ID, 1)
	require.NoError(t, err)
	require.Equal(t, 0, got[0].Status)
	require.Equal(t, 0, s.Pending())
}

func TestCloseReleasesHangingRequestsWith503(t *testing.T) {
	s := New(Options{})
	require.NoError(t, s.Start())
	app := newSender(t)
	sub := s.NewSubscription(Always(Answer{Hang: true}))
	status := make(chan int, 1)
	go func() {
		resp, err := app.send(t, sub, []byte("x"), app.options())
		if err != nil {
			status <- -1
			return
		}
		status <- resp.status
	}()
	require.Eventually(t, func() bool { return s.Pending() == 1 }, 10*time.Second, 5*time.Millisecond)
	require.NoError(t, s.Close())
	require.Equal(t, http.StatusServiceUnavailable, <-status)
	require.Equal(t, http.StatusServiceUnavailable, s.Received(sub.ID)[0].Status)
	require.NoError(t, s.Close()) // idempotent
}
