package procs

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestFreePortsAreDistinctAndBindable(t *testing.T) {
	ports, err := FreePorts(3)
	require.NoError(t, err)
	require.Len(t, ports, 3)
	require.NotEqual(t, ports[0], ports[1])
	require.NotEqual(t, ports[1], ports[2])
}

func TestWaitHTTP(t *testing.T) {
	ready := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		select {
		case <-ready:
			w.WriteHeader(http.StatusOK)
		default:
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	err := WaitHTTP(context.Background(), srv.URL, 300*time.Millisecond)
	require.ErrorContains(t, err, "status 503")
	close(ready)
	require.NoError(t, WaitHTTP(context.Background(), srv.URL, 5*time.Second))
}

func TestGroupKillRestartStop(t *testing.T) {
	log := filepath.Join(t.TempDir(), "sleep.log")
	g := NewGroup("/bin/sh", os.Environ())
	logged := func(want string) func() bool {
		return func() bool { b, _ := os.ReadFile(log); return string(b) == want }
	}
	require.NoError(t, g.Start(context.Background(), "s", log, "-c", "echo started; exec sleep 60"))
	require.Eventually(t, logged("started\n"), 10*time.Second, 10*time.Millisecond)
	require.Error(t, g.Restart(context.Background(), "s"), "restart of a running child must fail")
	require.NoError(t, g.Signal("s", syscall.SIGKILL))
	require.NoError(t, g.Restart(context.Background(), "s"))
	require.Eventually(t, logged("started\nstarted\n"), 10*time.Second, 10*time.Millisecond, "the restarted child appends to the same log")
	g.StopAll(5 * time.Second)
	require.ErrorContains(t, g.Signal("nope", syscall.SIGTERM), "no child")
}
