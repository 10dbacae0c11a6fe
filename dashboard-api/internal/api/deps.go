package api

import (
	"context"
	"log/slog"
	"time"

	"github.com/pushpipe/pushpipe/dashboard-api/internal/segdata"
	"github.com/pushpipe/pushpipe/dashboard-api/internal/stats"
	"github.com/pushpipe/pushpipe/internal/controlplane"
	"github.com/pushpipe/pushpipe/segments"
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

// SegmentStore keeps the segment definitions of each site; every method is
// scoped by site id. Unknown ids are errors wrapping controlplane.ErrNotFound,
// a taken name controlplane.ErrDuplicate, a stale version
// controlplane.ErrConflict. *controlplane.Store is one.
type SegmentStore interface {
	CreateSegment(ctx context.Context, siteID string, in controlplane.NewSegment) (controlplane.Segment, error)
	Segment(ctx context.Context, siteID, id string) (controlplane.Segment, error)
	Segments(ctx context.Context, siteID string) ([]controlplane.Segment, error)
	UpdateSegment(ctx context.Context, siteID, id string, in controlplane.NewSegment, ifVersion int) (controlplane.Segment, error)
	DeleteSegment(ctx context.Context, siteID, id string) error
}

// SegmentData reads segment data from ClickHouse. *segdata.ClickHouse is one.
type SegmentData interface {
	Count(ctx context.Context, q segments.SQL) (uint64, error)
	Members(ctx context.Context, q segdata.MembersQuery) ([]segdata.Member, error)
	Events(ctx context.Context, q segdata.EventsQuery) ([]segments.Event, error)
}

// Deps are what the handlers need.
type Deps struct {
	Keys         KeyLookup
	Stats        StatsQuerier
	Segments     SegmentStore
	SegmentData  SegmentData
	Log          *slog.Logger
	Now          func() time.Time // default time.Now
	QueryTimeout time.Duration    // bound on one request's storage queries; default 30 s
}
