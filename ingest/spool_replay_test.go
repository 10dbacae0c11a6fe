package ingest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/ingest/internal/spool"
)

func TestSpoolReplayedByTheNextInstance(t *testing.T) {
	dir := t.TempDir()
	first := newFixture(t, func(c *Config, _ *Deps) { c.SpoolDir = dir })
	first.producer.setErr(errKafkaDown)
	var accepted []string
	for range 3 {
		ids, resp, _ := first.postIDs(t, "a", "b")
		require.Equal(t, 2, resp.Accepted)
		accepted = append(accepted, ids...)
	}
	_, err := New(first.svc.cfg, Deps{Sites: newFakeSites(), Producer: &fakeProducer{}}, discardLogger())
	require.ErrorIs(t, err, spool.ErrLocked, "two instances never share a spool")
	require.NoError(t, first.svc.Close())
	require.Contains(t, first.logs.String(), "replayed at the next start")

	next := newFixture(t, func(c *Config, _ *Deps) { c.SpoolDir = dir })
	next.waitProduced(t, accepted)
}
