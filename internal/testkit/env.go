package testkit

import (
	"crypto/rand"
	"encoding/base64"
	"os"
	"testing"
)

// Environment variables naming the services for integration tests; the
// values `pushpipe dev env` prints.
const (
	EnvKafka      = "PUSHPIPE_KAFKA"
	EnvClickHouse = "PUSHPIPE_CLICKHOUSE"
	EnvPostgres   = "PUSHPIPE_POSTGRES"
)

// Kafka returns the broker list (host:port, comma-separated) from PUSHPIPE_KAFKA.
func Kafka(t testing.TB) string {
	t.Helper()
	return require(t, EnvKafka)
}

// ClickHouse returns the ClickHouse DSN from PUSHPIPE_CLICKHOUSE.
func ClickHouse(t testing.TB) string {
	t.Helper()
	return require(t, EnvClickHouse)
}

// Postgres returns the Postgres URL from PUSHPIPE_POSTGRES.
func Postgres(t testing.TB) string {
	t.Helper()
	return require(t, EnvPostgres)
}

// require returns the value of name. When it is unset the test is skipped,
// or fails when CI=true, so that CI never silently skips integration tests.
func require(t testing.TB, name string) string {
	t.Helper()
	if v := os.Getenv(name); v != "" {
		return v
	}
	msg := name + " is not set; start the local stack with `pushpipe dev up` and `eval $(pushpipe dev env)`"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " (CI=true: integration tests may not be skipped)")
	}
	t.Skip(msg)
	return ""
}

// MasterKey returns a fresh random master key (base64 of 32 bytes), as
// PUSHPIPE_MASTER_KEY holds it.
func MasterKey(t testing.TB) string {
	t.Helper()
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(raw)
}
