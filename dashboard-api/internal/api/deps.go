package api

import (
	"context"
	"log/slog"
	"time"

	"github.com/pushpipe/pushpipe/dashboard-api/internal/stats"
)

// KeyLookup finds the site an API key belongs to. An unknown or revoked key
// is an error wrapping controlplane.ErrNotFound. *controlplane.Store is one.
type KeyLookup interface {
	SiteIDByAPIKey(ctx context.Context, apiKey string) (string, error)
}

// StatsQuerier answers analytics queries for one site. *stats.ClickHouse is one.
type StatsQuerier interface {
	Overview(ctx context.Context, q stats.OverviewQuery) (stats.Overview, error)
}

// Deps are what the handlers need.
type Deps struct {
	Keys         KeyLookup
	Stats        StatsQuerier
	Log          *slog.Logger
	Now          func() time.Time // default time.Now
	QueryTimeout time.Duration    // bound on one request's storage queries; default 30 s
}
