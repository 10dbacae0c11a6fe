package devstack

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDaemonKill(t *testing.T) {
	d, _ := testDaemon(t, 5*time.Second)
	_, err := d.kill()
	require.ErrorIs(t, err, ErrNotRunning, "nothing of ours runs yet")

	// The shell ignores SIGTERM and has a child in its process group: a
	// crash takes both, whatever they do with signals.
	c, err := d.start(sleeper(d, "trap '' TERM; sleep 60 & wait"))
	require.NoError(t, err)
	pid, err := d.kill()
	require.NoError(t, err)
	require.Equal(t, c.pid, pid)
	_, running := d.running()
	require.False(t, running)
	require.FileExists(t, d.pidFile, "a crash leaves the pid file behind, as a real one would")
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		t.Fatal("the killed process was not reaped")
	}

	// Up's path after a crash: the stale pid file names no live process,
	// so a new start is allowed and overwrites it.
	c2, err := d.start(sleeper(d, "sleep 60"))
	require.NoError(t, err)
	require.NotEqual(t, pid, c2.pid)
	b, err := os.ReadFile(d.pidFile)
	require.NoError(t, err)
	require.Contains(t, string(b), strconv.Itoa(c2.pid))
	_, err = d.kill()
	require.NoError(t, err)
}

func TestStackKillUnknownService(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Dir = t.TempDir()
	s, err := New(cfg)
	require.NoError(t, err)
	_, err = s.Kill("redis")
	require.ErrorIs(t, err, ErrUnknownService)
	_, err = s.Kill("kafka")
	require.ErrorIs(t, err, ErrNotRunning, "no Kafka of this stack runs in an empty dev dir")
}
