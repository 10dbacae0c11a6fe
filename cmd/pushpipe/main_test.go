package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/kafkax"
	"github.com/pushpipe/pushpipe/internal/testkit"
)

func runForTest(t *testing.T, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	environ := make([]string, 0, len(vars))
	for k, v := range vars {
		environ = append(environ, k+"="+v)
	}
	code := run(context.Background(), args, &env{
		getenv: func(k string) string { return vars[k] }, environ: environ, stdout: &out, stderr: &errOut,
	})
	return code, out.String(), errOut.String()
}

func TestRunDispatch(t *testing.T) {
	code, out, _ := runForTest(t, nil, "help")
	require.Equal(t, 0, code)
	for name := range commands() {
		require.Contains(t, out, "  "+name+" ", "help lists every command")
	}
	code, _, errOut := runForTest(t, nil, "frobnicate")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, `unknown command "frobnicate"`)
	code, _, _ = runForTest(t, nil)
	require.Equal(t, 2, code, "no command is a usage error")
}

// Every configuration problem is reported at once, before anything is
// started; settings of other roles are not unknown (one env file may
// configure every role).
func TestRoleConfigProblemsReportedAtOnce(t *testing.T) {
	code, _, errOut := runForTest(t, map[string]string{
		"PUSHPIPE_INGEST_ADDR":         "nonsense",
		"PUSHPIPE_SINK_BATCH_SIZE":     "0",
		"PUSHPIPE_SINK_BATCH_INTERVAL": "soon",
		"PUSHPIPE_API_ADDR":            "127.0.0.1:0",
		"PUSHPIPE_INGSET_ADDR":         "typo",
	}, "all")
	require.Equal(t, 2, code)
	for _, want := range []string{"PUSHPIPE_INGEST_ADDR", "PUSHPIPE_SINK_BATCH_SIZE", "PUSHPIPE_SINK_BATCH_INTERVAL", "PUSHPIPE_INGSET_ADDR: unknown setting"} {
		require.Contains(t, errOut, want)
	}
	require.NotContains(t, errOut, "PUSHPIPE_API_ADDR")

	code, _, errOut = runForTest(t, map[string]string{"PUSHPIPE_API_ADDR": "127.0.0.1:0"}, "ingest", "extra")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "unexpected arguments")
}

// TestSmokeEndToEnd runs the real binary: ingest, stream and api as separate
// processes on free ports against the local stack, simulated traffic with
// invalid events, the stream process SIGKILLed mid-run, and every accepted
// event stored exactly once. `make smoke` runs the same with 20,000 events.
func TestSmokeEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
	kafka, ch, pg := testkit.Kafka(t), testkit.ClickHouse(t), testkit.Postgres(t)
	bin := filepath.Join(t.TempDir(), "pushpipe")
	build := exec.CommandContext(t.Context(), "go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())

	key := make([]byte, 32)
	_, _ = rand.Read(key)
	// A topic of its own, so no other test's sink shares its partitions.
	topic := fmt.Sprintf("e2e-smoke-%d", time.Now().UnixNano())
	t.Cleanup(func() { _ = kafkax.DeleteTopics(context.Background(), strings.Split(kafka, ","), topic) })
	cmd := exec.CommandContext(t.Context(), bin, "smoke", "--events", "4000", "--rate", "1500", "--visitors", "1000", "--logs", t.TempDir())
	cmd.Env = append(os.Environ(), "PUSHPIPE_KAFKA="+kafka, "PUSHPIPE_CLICKHOUSE="+ch, "PUSHPIPE_POSTGRES="+pg, "PUSHPIPE_EVENTS_TOPIC="+topic,
		"PUSHPIPE_MASTER_KEY="+base64.StdEncoding.EncodeToString(key))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	t.Logf("smoke stderr:\n%s", stderr.String())
	require.NoError(t, err, "smoke failed: %s", stdout.String())
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	last := lines[len(lines)-1]
	var sent, accepted, rejected, stored, dups, lost int
	_, err = fmtSscanf(last, &sent, &accepted, &rejected, &stored, &dups, &lost)
	require.NoError(t, err, "last line %q", last)
	require.Equal(t, 4000, sent)
	require.Positive(t, rejected, "the run mixes in invalid events, which must be refused")
	require.Equal(t, sent, accepted+rejected)
	require.Equal(t, accepted, stored)
	require.Zero(t, dups)
	require.Zero(t, lost)
	require.Contains(t, stderr.String(), "SIGKILL stream")
}

func fmtSscanf(line string, v ...any) (int, error) {
	return fmt.Sscanf(line, "smoke: sent=%d accepted=%d rejected=%d stored=%d duplicates=%d lost=%d", v...)
}
