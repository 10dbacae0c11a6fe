package devstack

import (
	"context"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/testkit"
	"github.com/pushpipe/pushpipe/schemas"
)

// TestStackUpDown starts a whole stack in a temporary directory on free
// ports, runs the integration checks against it, stops it, starts it again
// and checks that the data survived. It downloads ≈220 MB on first run, so
// it runs only with PUSHPIPE_DEVSTACK_E2E=1; PUSHPIPE_DEVSTACK_E2E_CACHE
// may name a download cache to reuse (for example .dev/cache).
func TestStackUpDown(t *testing.T) {
	if os.Getenv("PUSHPIPE_DEVSTACK_E2E") != "1" {
		t.Skip("set PUSHPIPE_DEVSTACK_E2E=1 to start a real stack (downloads ≈220 MB on first run)")
	}
	stack, logs := e2eStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	t.Cleanup(func() { _ = stack.Down(context.Background()) })

	upTimed(ctx, t, stack, "first up")
	pids := requireAll(t, stack, true)
	env := stack.Env()
	t.Run("kafka consumer group", func(t *testing.T) { checkKafkaConsumerGroup(t, env[EnvClientKafka]) })
	t.Run("clickhouse engines", func(t *testing.T) { checkClickHouseEngines(t, env[EnvClientClickHouse]) })
	t.Run("postgres", func(t *testing.T) { checkPostgresReachable(t, env[EnvClientPostgres]) })
	writeDurableData(ctx, t, env)

	upTimed(ctx, t, stack, "second up (idempotent)")
	require.Equal(t, pids, requireAll(t, stack, true), "a second up starts nothing")

	downTimed(ctx, t, stack)
	requireAll(t, stack, false)
	require.NotContains(t, logs.String(), "SIGKILL", "every service stops cleanly")
	require.Contains(t, logs.String(), "component=clickhouse pid="+strconv.Itoa(pids["clickhouse"])+" via=request")

	upTimed(ctx, t, stack, "up after down")
	requireAll(t, stack, true)
	checkDurableData(ctx, t, env)
	downTimed(ctx, t, stack)
	require.NotContains(t, logs.String(), "SIGKILL", "every service stops cleanly")
}

func e2eStack(t *testing.T) (*Stack, *testkit.LogBuffer) {
	dir, err := os.MkdirTemp("", "devstack-e2e-")
	require.NoError(t, err)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("kept %s for inspection", dir)
			return
		}
		_ = os.RemoveAll(dir)
	})
	logs := &testkit.LogBuffer{}
	kafkaPort := freePort(t, 2)
	cfg := Config{
		Dir: dir, KafkaPort: kafkaPort, ClickHousePort: freePort(t, 1), PostgresPort: freePort(t, 1),
		Partitions: 3, CacheDir: os.Getenv("PUSHPIPE_DEVSTACK_E2E_CACHE"),
		Progress: testWriter{t}, Logger: slog.New(slog.NewTextHandler(logs, nil)),
	}
	stack, err := New(cfg)
	require.NoError(t, err)
	t.Logf("dev dir %s, ports kafka %d clickhouse %d postgres %d", dir, cfg.KafkaPort, cfg.ClickHousePort, cfg.PostgresPort)
	return stack, logs
}

func upTimed(ctx context.Context, t *testing.T, s *Stack, what string) {
	t.Helper()
	start := time.Now()
	require.NoError(t, s.Up(ctx), what)
	t.Logf("%s took %s", what, time.Since(start).Round(100*time.Millisecond))
}

func downTimed(ctx context.Context, t *testing.T, s *Stack) {
	t.Helper()
	start := time.Now()
	require.NoError(t, s.Down(ctx))
	t.Logf("down took %s", time.Since(start).Round(100*time.Millisecond))
}

// requireAll checks that every service is (or is not) running and listening, and returns the pids.
func requireAll(t *testing.T, s *Stack, running bool) map[string]int {
	t.Helper()
	pids := map[string]int{}
	for _, st := range s.Status() {
		require.Equal(t, running, st.Running, st.Name)
		require.Equal(t, running, st.Listening, st.Name)
		pids[st.Name] = st.PID
	}
	return pids
}

func writeDurableData(ctx context.Context, t *testing.T, env map[string]string) {
	ch := openClickHouse(ctx, t, env[EnvClientClickHouse])
	require.NoError(t, ch.Exec(ctx, "CREATE TABLE durable (id UInt64) ENGINE = MergeTree ORDER BY id"))
	require.NoError(t, ch.Exec(ctx, "INSERT INTO durable SELECT number FROM numbers(1234)"))

	pg, err := pgx.Connect(ctx, env[EnvClientPostgres])
	require.NoError(t, err)
	defer func() { _ = pg.Close(ctx) }()
	_, err = pg.Exec(ctx, "CREATE TABLE durable AS SELECT generate_series(1, 1234) AS id")
	require.NoError(t, err)

	w := &kafka.Writer{Addr: kafka.TCP(env[EnvClientKafka]), Topic: schemas.TopicPushRequests, RequiredAcks: kafka.RequireAll}
	defer func() { _ = w.Close() }()
	require.NoError(t, w.WriteMessages(ctx, kafka.Message{Key: []byte("durable"), Value: []byte("1")}))
}

func checkDurableData(ctx context.Context, t *testing.T, env map[string]string) {
	ch := openClickHouse(ctx, t, env[EnvClientClickHouse])
	var n uint64
	require.NoError(t, ch.QueryRow(ctx, "SELECT count() FROM durable").Scan(&n))
	require.Equal(t, uint64(1234), n, "clickhouse rows after restart")

	pg, err := pgx.Connect(ctx, env[EnvClientPostgres])
	require.NoError(t, err)
	defer func() { _ = pg.Close(ctx) }()
	var m int
	require.NoError(t, pg.QueryRow(ctx, "SELECT count(*) FROM durable").Scan(&m))
	require.Equal(t, 1234, m, "postgres rows after restart")

	client := &kafka.Client{Addr: kafka.TCP(env[EnvClientKafka])}
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{schemas.TopicPushRequests}})
	require.NoError(t, err)
	var total int64
	for _, p := range md.Topics[0].Partitions {
		conn, err := kafka.DialLeader(ctx, "tcp", env[EnvClientKafka], schemas.TopicPushRequests, p.ID)
		require.NoError(t, err)
		last, err := conn.ReadLastOffset()
		_ = conn.Close()
		require.NoError(t, err)
		total += last
	}
	require.Equal(t, int64(1), total, "kafka messages after restart")
}

// freePort returns a port p such that p..p+n-1 are free on 127.0.0.1.
func freePort(t *testing.T, n int) int {
	t.Helper()
	for range 100 {
		var lc net.ListenConfig
		l, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
		require.NoError(t, err)
		p := l.Addr().(*net.TCPAddr).Port
		_ = l.Close()
		if p+n-1 <= 65535 && portsFree(p+1, n-1) {
			return p
		}
	}
	t.Fatal("no free port range")
	return 0
}

func portsFree(from, n int) bool {
	var lc net.ListenConfig
	for p := from; p < from+n; p++ {
		l, err := lc.Listen(context.Background(), "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			return false
		}
		_ = l.Close()
	}
	return true
}

// testWriter sends progress lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
