package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestReaderReportsEveryProblem(t *testing.T) {
	env := map[string]string{
		"PUSHPIPE_A":     "x",
		"PUSHPIPE_N":     "ten",
		"PUSHPIPE_D":     "5",
		"PUSHPIPE_TYPO":  "1",
		"PUSHPIPE_B":     "yes please",
		"PUSHPIPE_OTHER": "ok",
	}
	r := NewReader(func(k string) string { return env[k] })
	require.Equal(t, "x", r.String("PUSHPIPE_A", "def"))
	require.Equal(t, "def", r.String("PUSHPIPE_UNSET", "def"))
	require.Equal(t, 3, r.Int("PUSHPIPE_N", 3))
	require.Equal(t, time.Second, r.Duration("PUSHPIPE_D", time.Second))
	require.True(t, r.Bool("PUSHPIPE_B", true))
	r.Known("PUSHPIPE_OTHER")
	environ := []string{"PATH=/bin"}
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	err := r.Err(environ)
	require.Error(t, err)
	for _, want := range []string{
		`PUSHPIPE_N: "ten" is not an integer`,
		`PUSHPIPE_D: "5" is not a duration`,
		`PUSHPIPE_B: "yes please" is not true or false`,
		`PUSHPIPE_TYPO: unknown setting`,
	} {
		require.ErrorContains(t, err, want)
	}
	require.NotContains(t, err.Error(), "PUSHPIPE_OTHER")
	require.NotContains(t, err.Error(), "PATH")
}

func TestReaderListAndDefaults(t *testing.T) {
	env := map[string]string{"PUSHPIPE_L": " a, b ,,c "}
	r := NewReader(func(k string) string { return env[k] })
	require.Equal(t, []string{"a", "b", "c"}, r.List("PUSHPIPE_L", nil))
	require.Equal(t, []string{"z"}, r.List("PUSHPIPE_M", []string{"z"}))
	require.NoError(t, r.Err([]string{"PUSHPIPE_L=x"}))
}
