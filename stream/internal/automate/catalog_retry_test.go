package automate

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/controlplane"
)

// downDefinitions is a control plane that cannot be reached (only
// AutomationsSince is called).
type downDefinitions struct {
	Definitions
	calls int
}

func (d *downDefinitions) AutomationsSince(context.Context, int64) ([]controlplane.Automation, error) {
	d.calls++
	return nil, errors.New("connection refused")
}

// TestCatchUpWhilePostgresIsDown: events keep being handled with the known
// definitions, and the consumer asks Postgres again at most once per
// catchUpRetry, not once per event.
func TestCatchUpWhilePostgresIsDown(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	defs := &downDefinitions{}
	c := newCatalog(defs, slog.New(slog.DiscardHandler), func() time.Time { return now })
	for i := range 200 {
		now = now.Add(5 * time.Millisecond) // 200 events over one second
		require.NotNil(t, c.upTo(t.Context(), now.Add(time.Duration(i))))
	}
	require.LessOrEqual(t, defs.calls, 2, "refreshes while Postgres is down")
}
