package main

import (
	"os"
	"regexp"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/config"
)

// The README's configuration table lists exactly the settings the roles read
// (plus the dev stack's own), so the docs stay true.
func TestReadmeConfigTableIsComplete(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	row := regexp.MustCompile("(?m)^\\| `(PUSHPIPE_[A-Z_]+)` \\|")
	var documented []string
	for _, m := range row.FindAllStringSubmatch(string(raw), -1) {
		documented = append(documented, m[1])
	}
	r := config.NewReader(func(string) string { return "" })
	loadAllConfigs(r)
	want := r.Keys()
	slices.Sort(want)
	slices.Sort(documented)
	require.Equal(t, want, documented)
}
