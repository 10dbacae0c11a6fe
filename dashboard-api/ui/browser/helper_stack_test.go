package browser

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/kafkax"
	"github.com/pushpipe/pushpipe/internal/procs"
	"github.com/pushpipe/pushpipe/internal/testkit"
	"github.com/pushpipe/pushpipe/internal/testkit/testdb"
)

// chromiumPath is Debian's Chromium (package chromium); the tests never download a browser.
const chromiumPath = "/usr/bin/chromium"

// roles run as child processes, in start order.
var roles = []string{"ingest", "stream", "api"}

// stack is the real system the page talks to: ingest, stream and api as
// separate processes of the pushpipe binary on an events topic of their
// own, and ClickHouse to wait for stored events in.
type stack struct {
	bin    string
	ingest string // http://127.0.0.1:PORT
	api    string // http://127.0.0.1:PORT: serves the page and the REST API
	ch     driver.Conn
	logDir string
}

// requireChromium skips (locally) or fails (CI=true) when Chromium is missing.
func requireChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err == nil {
		return
	}
	msg := chromiumPath + " is missing; install Debian's chromium package (apt-get install chromium)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " (CI=true: browser tests may not be skipped)")
	}
	t.Skip(msg)
}

// startStack builds the binary, migrates, and runs ingest, stream and api
// on free ports until t ends.
func startStack(t *testing.T) *stack {
	t.Helper()
	kafka, chDSN, pgDSN := testkit.Kafka(t), testkit.ClickHouse(t), testkit.Postgres(t)
	requireChromium(t)
	ctx := t.Context()

	st := &stack{bin: filepath.Join(t.TempDir(), "pushpipe"), logDir: t.TempDir()}
	build := exec.CommandContext(ctx, "go", "build", "-o", st.bin, "github.com/pushpipe/pushpipe/cmd/pushpipe")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	require.NoError(t, build.Run(), "build the pushpipe binary")

	_, st.ch = testdb.Open(t) // migrates Postgres and ClickHouse

	ports, err := procs.FreePorts(2)
	require.NoError(t, err)
	ingestAddr, apiAddr := fmt.Sprintf("127.0.0.1:%d", ports[0]), fmt.Sprintf("127.0.0.1:%d", ports[1])
	st.ingest, st.api = "http://"+ingestAddr, "http://"+apiAddr

	brokers := strings.Split(kafka, ",")
	topic := fmt.Sprintf("dashboard-browser-events-%d", time.Now().UnixNano())
	_, err = kafkax.EnsureTopics(ctx, brokers, 3, 1, topic)
	require.NoError(t, err)
	t.Cleanup(func() { _ = kafkax.DeleteTopics(context.Background(), brokers, topic) })

	st.startRoles(t, []string{
		"PUSHPIPE_INGEST_ADDR=" + ingestAddr, "PUSHPIPE_API_ADDR=" + apiAddr,
		"PUSHPIPE_KAFKA=" + kafka, "PUSHPIPE_CLICKHOUSE=" + chDSN, "PUSHPIPE_POSTGRES=" + pgDSN,
		"PUSHPIPE_MASTER_KEY=" + testkit.MasterKey(t), "PUSHPIPE_EVENTS_TOPIC=" + topic,
		"PUSHPIPE_INGEST_SPOOL_DIR=" + t.TempDir(),
		// Plain HTTP on 127.0.0.1: the session cookie cannot be Secure here.
		"PUSHPIPE_API_INSECURE_COOKIES=true", "PUSHPIPE_API_PUBLIC_URL=" + st.api, "PUSHPIPE_API_INGEST_URL=" + st.ingest,
	})
	require.NoError(t, procs.WaitHTTP(ctx, st.ingest+"/healthz", 30*time.Second))
	require.NoError(t, procs.WaitHTTP(ctx, st.api+"/healthz", 30*time.Second))
	return st
}

// startRoles runs the roles as child processes, stops them when t ends,
// and shows the end of their logs when t failed.
func (st *stack) startRoles(t *testing.T, env []string) {
	t.Helper()
	g := procs.NewGroup(st.bin, append(os.Environ(), env...))
	t.Cleanup(func() {
		if t.Failed() {
			for _, role := range roles {
				t.Logf("last lines of the %s log:\n%s", role, tail(filepath.Join(st.logDir, role+".log"), 30))
			}
		}
	})
	t.Cleanup(func() { g.StopAll(10 * time.Second) })
	for _, role := range roles {
		require.NoError(t, g.Start(t.Context(), role, filepath.Join(st.logDir, role+".log"), role))
	}
}

// tail returns the last n lines of the file at path.
func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer func() { _ = f.Close() }()
	var lines []string
	sc := bufio.NewScanner(io.LimitReader(f, 64<<20))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}
