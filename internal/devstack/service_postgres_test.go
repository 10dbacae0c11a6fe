package devstack

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/testkit"
)

func TestNewestPostgresBin(t *testing.T) {
	root := t.TempDir()
	for _, v := range []string{"9.6", "15", "13", "16"} {
		bin := filepath.Join(root, v, "bin")
		require.NoError(t, os.MkdirAll(bin, 0o755))
		if v == "16" {
			continue // incomplete: no programs
		}
		for _, p := range []string{"initdb", "pg_ctl", "postgres"} {
			require.NoError(t, os.WriteFile(filepath.Join(bin, p), nil, 0o755))
		}
	}
	got, err := newestPostgresBin(root)
	require.NoError(t, err)
	require.Equal(t, filepath.Join(root, "15", "bin"), got)

	_, err = newestPostgresBin(filepath.Join(root, "missing"))
	require.ErrorIs(t, err, ErrMissingTool)
}

func TestVersionLess(t *testing.T) {
	v := []string{"15", "9.6", "10", "9.10", "16"}
	sort.Slice(v, func(i, j int) bool { return versionLess(v[i], v[j]) })
	require.Equal(t, []string{"9.6", "9.10", "10", "15", "16"}, v)
}

func TestCheckTraversable(t *testing.T) {
	dir := t.TempDir()
	closed := filepath.Join(dir, "closed")
	inner := filepath.Join(closed, "inner")
	require.NoError(t, os.MkdirAll(inner, 0o755))
	require.NoError(t, os.Chmod(dir, 0o755))
	require.NoError(t, os.Chmod(filepath.Dir(dir), 0o755))
	require.NoError(t, os.Chmod(closed, 0o700))
	const nobody = 65534
	err := checkTraversable(inner, nobody, nobody)
	require.ErrorContains(t, err, "cannot enter "+closed)
	require.ErrorContains(t, err, "chmod o+x "+closed)

	require.NoError(t, os.Chmod(closed, 0o711))
	require.NoError(t, checkTraversable(inner, nobody, nobody))
}

// TestPostgresReachable checks against a running stack that the pushpipe
// database exists and takes writes.
func TestPostgresReachable(t *testing.T) {
	checkPostgresReachable(t, testkit.Postgres(t))
}

func checkPostgresReachable(t *testing.T, url string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer func() { _ = conn.Close(context.Background()) }()
	var db string
	require.NoError(t, conn.QueryRow(ctx, "SELECT current_database()").Scan(&db))
	require.Equal(t, "pushpipe", db)
	_, err = conn.Exec(ctx, "CREATE TEMP TABLE devstack_probe (id int PRIMARY KEY, v text)")
	require.NoError(t, err)
	_, err = conn.Exec(ctx, "INSERT INTO devstack_probe VALUES (1, 'ü')")
	require.NoError(t, err)
	var v string
	require.NoError(t, conn.QueryRow(ctx, "SELECT v FROM devstack_probe WHERE id = 1").Scan(&v))
	require.Equal(t, "ü", v)
}

func TestAllowSearch(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "dev")
	require.NoError(t, os.Mkdir(dir, 0o700))
	require.NoError(t, allowSearch(dir))
	info, err := os.Stat(dir)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o701), info.Mode().Perm())
}
