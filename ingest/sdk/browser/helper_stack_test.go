package browser

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/controlplane"
	"github.com/pushpipe/pushpipe/internal/kafkax"
	"github.com/pushpipe/pushpipe/internal/procs"
	"github.com/pushpipe/pushpipe/internal/testkit"
	"github.com/pushpipe/pushpipe/internal/testkit/testdb"
)

// chromiumPath is Debian's Chromium (package chromium); the tests never download a browser.
const chromiumPath = "/usr/bin/chromium"

// stack is the real pipeline the scenarios drive: ingest and stream as
// separate processes of the pushpipe binary, the control plane to create
// sites in, and ClickHouse to read the outcome from.
type stack struct {
	origin string // http://127.0.0.1:PORT: ingest, which serves the SDK and the demo page and takes the beacons
	store  *controlplane.Store
	ch     driver.Conn
}

// scene is one scenario's share of the stack: a fresh site, so that every
// event stored for it came from this scenario.
type scene struct {
	*stack
	site controlplane.CreatedSite
}

// newScene counts t as a scenario of the summary and creates its site,
// whose one allowed origin is the ingest origin (the demo page's).
func (s *stack) newScene(t *testing.T) *scene {
	t.Helper()
	scenario(t)
	site, err := s.store.CreateSite(t.Context(), controlplane.NewSite{
		Name:           t.Name() + " " + time.Now().UTC().Format(time.RFC3339),
		AllowedOrigins: []string{s.origin},
		Contact:        "mailto:browser-test@example.com",
	})
	require.NoError(t, err, "create a site")
	t.Logf("site %s (%s)", site.ID, site.SiteKey)
	return &scene{stack: s, site: site}
}

// demoURL is the demo page for the scene's site, with the site's VAPID
// public key (the demo needs it to subscribe).
func (sc *scene) demoURL() string {
	return sc.origin + "/sdk/v1/demo.html?site_key=" + url.QueryEscape(sc.site.SiteKey) + "&vapid=" + url.QueryEscape(sc.site.VAPIDPublicKey)
}

// requireChromium skips (locally) or fails (CI=true) when Chromium is missing.
func requireChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err == nil {
		return
	}
	msg := chromiumPath + " is missing; install Debian's chromium package (apt-get install chromium chromium-driver)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " (CI=true: browser tests may not be skipped)")
	}
	t.Skip(msg)
}

// startStack builds the binary, migrates, and runs ingest and stream on
// free ports until t ends.
func startStack(t *testing.T) *stack {
	t.Helper()
	kafka, chDSN, pgDSN := testkit.Kafka(t), testkit.ClickHouse(t), testkit.Postgres(t)
	requireChromium(t)
	ctx := t.Context()

	bin := filepath.Join(t.TempDir(), "pushpipe")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/pushpipe/pushpipe/cmd/pushpipe")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	require.NoError(t, build.Run(), "build the pushpipe binary")

	db, ch := testdb.Open(t)

	ports, err := procs.FreePorts(1)
	require.NoError(t, err)
	addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	st := &stack{origin: "http://" + addr, ch: ch}

	masterKey := testkit.MasterKey(t)
	key, err := controlplane.ParseMasterKey(masterKey)
	require.NoError(t, err)
	st.store = controlplane.NewStore(db, key)

	// An events topic of its own: no other test's sink (smoke, e2e) shares
	// its partitions, so consumer-group rebalances never cross suites.
	brokers := strings.Split(kafka, ",")
	topic := fmt.Sprintf("browser-events-%d", time.Now().UnixNano())
	_, err = kafkax.EnsureTopics(ctx, brokers, 3, 1, topic)
	require.NoError(t, err)
	t.Cleanup(func() { _ = kafkax.DeleteTopics(context.Background(), brokers, topic) })

	startRoles(t, bin, []string{
		"PUSHPIPE_INGEST_ADDR=" + addr, "PUSHPIPE_KAFKA=" + kafka, "PUSHPIPE_CLICKHOUSE=" + chDSN,
		"PUSHPIPE_POSTGRES=" + pgDSN, "PUSHPIPE_MASTER_KEY=" + masterKey, "PUSHPIPE_EVENTS_TOPIC=" + topic,
		"PUSHPIPE_INGEST_SPOOL_DIR=" + t.TempDir(),
	})
	require.NoError(t, procs.WaitHTTP(ctx, st.origin+"/healthz", 30*time.Second))
	return st
}

// startRoles runs ingest and stream as child processes, stops them when t
// ends, and shows the end of their logs when t failed.
func startRoles(t *testing.T, bin string, env []string) {
	t.Helper()
	logDir := t.TempDir()
	g := procs.NewGroup(bin, append(os.Environ(), env...))
	t.Cleanup(func() {
		if t.Failed() {
			for _, role := range []string{"ingest", "stream"} {
				t.Logf("last lines of the %s log:\n%s", role, tail(filepath.Join(logDir, role+".log"), 30))
			}
		}
	})
	t.Cleanup(func() { g.StopAll(10 * time.Second) })
	for _, role := range []string{"ingest", "stream"} {
		require.NoError(t, g.Start(t.Context(), role, filepath.Join(logDir, role+".log"), role))
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
