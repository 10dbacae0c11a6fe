package devstack

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTailBuffer(t *testing.T) {
	tb := &tailBuffer{max: 4096}
	for i := range 30 {
		_, _ = tb.Write([]byte(strings.Repeat("x", i) + "\n"))
	}
	lines := strings.Split(tb.String(), "\n")
	require.Len(t, lines, 10)
	require.Equal(t, strings.Repeat("x", 29), lines[9])
}

func TestRunToolFailureShowsOutputAndLog(t *testing.T) {
	log := filepath.Join(t.TempDir(), "x.log")
	err := runTool(exec.CommandContext(context.Background(), "sh", "-c", "echo first; echo 'it broke' >&2; exit 4"), log, nil)
	require.ErrorContains(t, err, "exit status 4")
	require.ErrorContains(t, err, "it broke")
	require.ErrorContains(t, err, log)
}

func TestLookToolNamesPackage(t *testing.T) {
	_, err := lookTool("no-such-tool-devstack", "some-deb")
	require.ErrorIs(t, err, ErrMissingTool)
	require.ErrorContains(t, err, "sudo apt-get install some-deb")
}

func TestLinePrefixer(t *testing.T) {
	var out bytes.Buffer
	lp := &linePrefixer{p: progress{mu: &sync.Mutex{}, w: &out}, svc: "postgres"}
	_, _ = lp.Write([]byte("Get:1 http://deb x\nGet:2 ht"))
	_, _ = lp.Write([]byte("tp://deb y\n\n"))
	require.Equal(t, "postgres:   Get:1 http://deb x\npostgres:   Get:2 http://deb y\n", out.String())
}
