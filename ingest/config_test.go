package ingest

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/config"
	"github.com/pushpipe/pushpipe/schemas"
)

func load(env map[string]string) (Config, *config.Reader) {
	r := config.NewReader(func(k string) string { return env[k] })
	return LoadConfig(r), r
}

func TestLoadConfigDefaults(t *testing.T) {
	cfg, r := load(nil)
	require.NoError(t, r.Err(nil))
	require.Equal(t, Config{
		Addr: "127.0.0.1:8080", MaxBody: schemas.MaxBeaconBytes, BatchTimeout: 2 * time.Millisecond,
		Topic: schemas.TopicEvents, ShutdownTimeout: 15 * time.Second,
		SpoolDir: filepath.Join(".dev", "spool-ingest"), SpoolMaxBytes: 256 << 20,
	}, cfg)
	require.Equal(t, filepath.Join(".dev", "spool-ingest", "127.0.0.1_8080"), cfg.SpoolPath())
	require.NoError(t, cfg.Validate())
	require.Equal(t, schemas.TopicEvents, cfg.WriterConfig([]string{"k:9092"}).Topic)
	require.Equal(t, 2*time.Millisecond, cfg.WriterConfig(nil).BatchTimeout)
}

func TestLoadConfigFromEnv(t *testing.T) {
	db := filepath.Join(t.TempDir(), "city.mmdb")
	require.NoError(t, os.WriteFile(db, []byte("x"), 0o600))
	env := map[string]string{
		EnvAddr: ":9090", EnvMaxBody: "65536", EnvTrustedProxies: "10.0.0.0/8, 192.168.0.1",
		EnvGeoIPDB: db, EnvBatchTimeout: "5ms", EnvSpoolDir: "/var/lib/pushpipe/spool", EnvSpoolMaxBytes: "1048576",
	}
	cfg, r := load(env)
	require.NoError(t, r.Err(nil))
	require.Equal(t, ":9090", cfg.Addr)
	require.EqualValues(t, 65536, cfg.MaxBody)
	require.Equal(t, []string{"10.0.0.0/8", "192.168.0.1"}, cfg.TrustedProxies)
	require.Equal(t, db, cfg.GeoIPDB)
	require.Equal(t, 5*time.Millisecond, cfg.BatchTimeout)
	require.Equal(t, "/var/lib/pushpipe/spool", cfg.SpoolDir)
	require.EqualValues(t, 1<<20, cfg.SpoolMaxBytes)
	require.Equal(t, "/var/lib/pushpipe/spool/_9090", cfg.SpoolPath(), "one spool per listen address")
	require.NoError(t, cfg.Validate())
}

func TestLoadConfigMalformedValues(t *testing.T) {
	_, r := load(map[string]string{EnvMaxBody: "big", EnvBatchTimeout: "soon", EnvSpoolMaxBytes: "256MiB"})
	err := r.Err(nil)
	require.ErrorContains(t, err, "PUSHPIPE_INGEST_SPOOL_MAX_BYTES")
	require.ErrorContains(t, err, "PUSHPIPE_INGEST_MAX_BODY")
	require.ErrorContains(t, err, "PUSHPIPE_INGEST_BATCH_TIMEOUT")
}

func TestValidateReportsEveryProblem(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{
		Addr: "localhost", MaxBody: 0, TrustedProxies: []string{"10.0.0.0/8", "10.0.0.0/99", "proxy"},
		GeoIPDB: filepath.Join(dir, "missing.mmdb"), BatchTimeout: 5 * time.Second, SpoolMaxBytes: -1,
	}
	err := cfg.Validate()
	require.Error(t, err)
	for _, want := range []string{
		`PUSHPIPE_INGEST_ADDR: "localhost" is not host:port`,
		"PUSHPIPE_INGEST_MAX_BODY: 0 is out of range",
		`PUSHPIPE_INGEST_TRUSTED_PROXIES: "10.0.0.0/99" is neither a CIDR`,
		`PUSHPIPE_INGEST_TRUSTED_PROXIES: "proxy" is neither a CIDR`,
		"PUSHPIPE_GEOIP_DB: cannot read",
		"PUSHPIPE_INGEST_BATCH_TIMEOUT: 5s is out of range",
		"PUSHPIPE_INGEST_SPOOL_MAX_BYTES: -1 is negative",
		"shutdown timeout must be positive",
	} {
		require.ErrorContains(t, err, want)
	}

	cfg = Defaults()
	cfg.GeoIPDB = dir
	require.ErrorContains(t, cfg.Validate(), "is not a file")
	cfg = Defaults()
	cfg.SpoolDir = " "
	require.ErrorContains(t, cfg.Validate(), "PUSHPIPE_INGEST_SPOOL_DIR: must not be empty")
	cfg.SpoolMaxBytes = 0
	require.NoError(t, cfg.Validate(), "no spool, no directory needed")
	cfg = Defaults()
	cfg.Addr = "127.0.0.1:99999"
	require.ErrorContains(t, cfg.Validate(), "has no valid port")
}

func TestNewRefusesBadInput(t *testing.T) {
	cfg := Defaults()
	cfg.SpoolDir = t.TempDir()
	_, err := New(cfg, Deps{Sites: newFakeSites()}, discardLogger())
	require.ErrorContains(t, err, "Deps.Sites and Deps.Producer are required")
	cfg.MaxBody = -1
	_, err = New(cfg, Deps{Sites: newFakeSites(), Producer: &fakeProducer{}}, discardLogger())
	require.ErrorContains(t, err, "PUSHPIPE_INGEST_MAX_BODY")
	cfg = Defaults()
	cfg.SpoolDir = t.TempDir()
	cfg.GeoIPDB = filepath.Join(t.TempDir(), "junk.mmdb")
	require.NoError(t, os.WriteFile(cfg.GeoIPDB, []byte("junk"), 0o600))
	_, err = New(cfg, Deps{Sites: newFakeSites(), Producer: &fakeProducer{}}, discardLogger())
	require.ErrorContains(t, err, "open geoip database")
}
