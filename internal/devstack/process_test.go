package devstack

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func testDaemon(t *testing.T, budget time.Duration) (daemon, *bytes.Buffer) {
	t.Helper()
	dir := t.TempDir()
	var logs bytes.Buffer
	return daemon{
		name:       "sleeper",
		pidFile:    filepath.Join(dir, "run", "sleeper.pid"),
		logFile:    filepath.Join(dir, "logs", "sleeper.log"),
		marker:     "devstack-test-" + filepath.Base(dir),
		stopSignal: syscall.SIGTERM,
		stopBudget: budget,
		logger:     slog.New(slog.NewTextHandler(&logs, nil)),
	}, &logs
}

// sleeper runs a shell that carries the marker in its command line.
func sleeper(d daemon, script string) *exec.Cmd {
	return exec.CommandContext(context.Background(), "sh", "-c", script+" # "+d.marker)
}

func TestDaemonStartStop(t *testing.T) {
	d, logs := testDaemon(t, 5*time.Second)
	_, running := d.running()
	require.False(t, running)

	c, err := d.start(sleeper(d, "echo hello; trap 'kill $!; exit 0' TERM; sleep 60 & wait"))
	require.NoError(t, err)
	pid, running := d.running()
	require.True(t, running)
	require.Equal(t, c.pid, pid)
	pgid, err := syscall.Getpgid(pid)
	require.NoError(t, err)
	require.Equal(t, pid, pgid, "child leads its own process group")

	require.NoError(t, d.stop(context.Background()))
	_, running = d.running()
	require.False(t, running)
	require.NoFileExists(t, d.pidFile)
	require.NotContains(t, logs.String(), "SIGKILL")
	out, err := os.ReadFile(d.logFile)
	require.NoError(t, err)
	require.Contains(t, string(out), "hello")

	require.NoError(t, d.stop(context.Background()), "stop is idempotent")
}

func TestDaemonStopEscalatesToSIGKILL(t *testing.T) {
	d, logs := testDaemon(t, 500*time.Millisecond)
	_, err := d.start(sleeper(d, "trap '' TERM; while :; do sleep 0.1; done"))
	require.NoError(t, err)
	time.Sleep(200 * time.Millisecond) // let the trap be installed
	start := time.Now()
	require.NoError(t, d.stop(context.Background()))
	require.Less(t, time.Since(start), 5*time.Second)
	require.Contains(t, logs.String(), "SIGKILL")
	_, running := d.running()
	require.False(t, running)
}

func TestDaemonRunningIgnoresForeignPid(t *testing.T) {
	d, _ := testDaemon(t, time.Second)
	require.NoError(t, writePidFile(d.pidFile, os.Getpid())) // alive, but not ours
	_, running := d.running()
	require.False(t, running)
}

func TestWaitReady(t *testing.T) {
	t.Run("ready", func(t *testing.T) {
		d, _ := testDaemon(t, time.Second)
		calls := 0
		err := d.waitReady(context.Background(), nil, 5*time.Second, func(context.Context) error {
			if calls++; calls < 3 {
				return errors.New("not yet")
			}
			return nil
		})
		require.NoError(t, err)
	})
	t.Run("timeout names the log", func(t *testing.T) {
		d, _ := testDaemon(t, time.Second)
		err := d.waitReady(context.Background(), nil, 600*time.Millisecond, func(context.Context) error {
			return errors.New("connection refused")
		})
		require.ErrorIs(t, err, ErrNotReady)
		require.ErrorContains(t, err, "connection refused")
		require.ErrorContains(t, err, d.logFile)
	})
	t.Run("early exit", func(t *testing.T) {
		d, _ := testDaemon(t, time.Second)
		err := d.startReady(context.Background(), sleeper(d, "echo boom >&2; exit 3"), 10*time.Second,
			func(context.Context) error { return errors.New("connection refused") })
		require.ErrorIs(t, err, ErrNotReady)
		require.ErrorContains(t, err, "exited while starting (exit status 3)")
		out, _ := os.ReadFile(d.logFile)
		require.Contains(t, string(out), "boom")
		require.NoFileExists(t, d.pidFile)
	})
}

func TestZombieOrMissing(t *testing.T) {
	require.False(t, processAlive(0, ""))
	require.False(t, processAlive(1<<30, ""))
	require.True(t, processAlive(os.Getpid(), ""))
	require.True(t, processAlive(os.Getpid(), filepath.Base(os.Args[0])))
	require.False(t, processAlive(os.Getpid(), "no-such-marker-"+strings.Repeat("x", 8)))
}

func TestDaemonStopAsksFirst(t *testing.T) {
	d, logs := testDaemon(t, 5*time.Second)
	_, err := d.start(sleeper(d, "trap '' TERM; while :; do sleep 0.1; done"))
	require.NoError(t, err)
	pid, _ := d.running()
	asked := false
	d.askStop = func(context.Context) error {
		asked = true
		return syscall.Kill(-pid, syscall.SIGKILL) // stands in for a protocol-level stop
	}
	require.NoError(t, d.stop(context.Background()))
	require.True(t, asked)
	require.Contains(t, logs.String(), "via=request")
}
