package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/pushpipe/pushpipe/dashboard-api/internal/backtest"
	"github.com/pushpipe/pushpipe/dashboard-api/internal/reports"
	"github.com/pushpipe/pushpipe/dashboard-api/internal/segdata"
	"github.com/pushpipe/pushpipe/dashboard-api/internal/stats"
	"github.com/pushpipe/pushpipe/internal/controlplane"
	"github.com/pushpipe/pushpipe/segments"
)

// KeyLookup finds an API key (its site and scope) by its secret. An unknown
// or revoked key is an error wrapping controlplane.ErrNotFound.
// *controlplane.Store is one.
type KeyLookup interface {
	APIKeyByToken(ctx context.Context, apiKey string) (controlplane.APIKey, error)
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

// AutomationStore keeps the automations of each site; every method but
// AutomationVersion is scoped by site id. Unknown ids are errors wrapping
// controlplane.ErrNotFound, a stale version controlplane.ErrConflict.
// *controlplane.Store is one.
type AutomationStore interface {
	CreateAutomation(ctx context.Context, siteID string, in controlplane.NewAutomation) (controlplane.Automation, error)
	Automation(ctx context.Context, siteID, id string) (controlplane.Automation, error)
	Automations(ctx context.Context, siteID string) ([]controlplane.Automation, error)
	UpdateAutomation(ctx context.Context, siteID, id string, in controlplane.NewAutomation, ifVersion int) (controlplane.Automation, error)
	SetAutomationStatus(ctx context.Context, siteID, id, status string) (controlplane.Automation, error)
	DeleteAutomation(ctx context.Context, siteID, id string) error
	// AutomationVersion is not scoped: check the automation's site first.
	AutomationVersion(ctx context.Context, automationID string, version int) (json.RawMessage, error)
}

// CampaignStore keeps the campaigns of each site, scoped by site id.
// Unknown ids are errors wrapping controlplane.ErrNotFound, a change the
// campaign's status does not allow controlplane.ErrState.
// *controlplane.Store is one.
type CampaignStore interface {
	CreateCampaign(ctx context.Context, siteID string, in controlplane.NewCampaign) (controlplane.Campaign, error)
	Campaign(ctx context.Context, siteID, id string) (controlplane.Campaign, error)
	Campaigns(ctx context.Context, siteID string) ([]controlplane.Campaign, error)
	UpdateCampaign(ctx context.Context, siteID, id string, in controlplane.NewCampaign) (controlplane.Campaign, error)
	ScheduleCampaign(ctx context.Context, siteID, id string) (controlplane.Campaign, error)
	CancelCampaign(ctx context.Context, siteID, id string) (controlplane.Campaign, error)
	CampaignProgress(ctx context.Context, siteID, id string) (controlplane.Progress, error)
	// DeleteCampaign deletes a draft (controlplane.ErrState for any other status).
	DeleteCampaign(ctx context.Context, siteID, id string) error
}

// SettingsStore keeps each site's delivery policy, attribution window and
// send rate. *controlplane.Store is one.
type SettingsStore interface {
	SitePolicy(ctx context.Context, siteID string) (controlplane.SiteSettings, error)
	UpdateSitePolicy(ctx context.Context, siteID string, s controlplane.SiteSettings) error
}

// Reports answers push reports from ClickHouse. *reports.ClickHouse is one.
type Reports interface {
	Attribution(ctx context.Context, q reports.AttributionQuery) ([]reports.Row, error)
	Campaign(ctx context.Context, q reports.CampaignQuery) (reports.CampaignCounts, error)
}

// Deps are what the handlers need.
type Deps struct {
	Keys         KeyLookup
	Sessions     Sessions // web sessions; nil: only API keys authenticate
	Accounts     Accounts
	Members      MemberStore
	Sites        Sites
	KeyAdmin     KeyAdmin
	Audit        Auditor // nil: changes are not recorded (tests only)
	Auth         AuthConfig
	Stats        StatsQuerier
	Segments     SegmentStore
	SegmentData  SegmentData
	Automations  AutomationStore
	Campaigns    CampaignStore
	Settings     SettingsStore
	Reports      Reports
	Backtests    backtest.Source // stored events for backtests; *backtest.ClickHouse is one
	Privacy      Privacy         // subscriber export and erasure; nil: those routes answer 503
	Log          *slog.Logger
	Now          func() time.Time // default time.Now
	QueryTimeout time.Duration    // bound on one request's storage queries; default 30 s
	OpenAPI      []byte           // the OpenAPI document served at /openapi.yaml; nil: 404
}
