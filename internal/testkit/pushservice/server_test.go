package pushservice

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRunServesUntilTheContextEnds(t *testing.T) {
	s := New(Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	require.Eventually(t, func() bool { return s.URL() != "" }, 10*time.Second, 5*time.Millisecond)

	app := newSender(t)
	resp, err := app.send(t, s.NewSubscription(Behaviour{}), []byte("x"), app.options())
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, resp.status)

	cancel()
	require.NoError(t, <-done)
	_, err = app.send(t, s.NewSubscription(Behaviour{}), []byte("x"), app.options())
	require.Error(t, err, "the listener is closed")
}

func TestStartReportsWhatPreventsServing(t *testing.T) {
	s := start(t)
	require.ErrorContains(t, s.Start(), "already started")

	busy := New(Options{Addr: s.URL()[len("http://"):]})
	require.ErrorContains(t, busy.Start(), "listen on")
	require.NoError(t, busy.Close())
}

func TestServerWorksMountedAsAHandler(t *testing.T) {
	ts := httptest.NewUnstartedServer(nil)
	s := New(Options{URL: "http://" + ts.Listener.Addr().String() + "/"})
	ts.Config.Handler = s
	ts.Start()
	defer ts.Close()

	app := newSender(t)
	sub := s.NewSubscription(Behaviour{})
	require.Equal(t, ts.URL+"/push/"+sub.ID, sub.Endpoint)
	resp, err := app.send(t, sub, []byte("mounted"), app.options())
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, resp.status)
	require.Equal(t, ts.URL, s.Received(sub.ID)[0].Claims.Aud)
	require.Equal(t, "mounted", string(s.Received(sub.ID)[0].Plaintext))
}
