package dashboardapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/pushpipe/pushpipe/dashboard-api/internal/api"
	"github.com/pushpipe/pushpipe/dashboard-api/internal/backtest"
	"github.com/pushpipe/pushpipe/dashboard-api/internal/reports"
	"github.com/pushpipe/pushpipe/dashboard-api/internal/segdata"
	"github.com/pushpipe/pushpipe/dashboard-api/internal/stats"
	"github.com/pushpipe/pushpipe/internal/controlplane"
	"github.com/pushpipe/pushpipe/segments"
)

// APIKeys finds an API key (its site and scope) by its secret; an unknown or
// revoked key is an error wrapping controlplane.ErrNotFound.
// *controlplane.Store is one.
type APIKeys = api.KeyLookup

// AccountStore keeps accounts, sessions, memberships, invitations, sites,
// API keys and the audit log; *controlplane.Store is one.
type AccountStore = api.AccountStore

// Query and answer types of the stats querier.
type (
	OverviewQuery = stats.OverviewQuery
	Overview      = stats.Overview
)

// JSON answers of the API, for clients written in Go and for tests.
type (
	OverviewResponse    = api.OverviewResponse
	BucketResponse      = api.BucketResponse
	SubscribersResponse = api.SubscribersResponse
	ErrorBody           = api.ErrorBody
	Problem             = api.Problem
	SegmentRequest      = api.SegmentRequest
	SegmentResponse     = api.SegmentResponse
	SegmentListResponse = api.SegmentListResponse
	PreviewRequest      = api.PreviewRequest
	PreviewResponse     = api.PreviewResponse
	MembersResponse     = api.MembersResponse
	MemberResponse      = api.MemberResponse

	AutomationRequest         = api.AutomationRequest
	AutomationResponse        = api.AutomationResponse
	AutomationListResponse    = api.AutomationListResponse
	AutomationVersionResponse = api.AutomationVersionResponse
	StatusRequest             = api.StatusRequest
	CampaignRequest           = api.CampaignRequest
	CampaignResponse          = api.CampaignResponse
	CampaignListResponse      = api.CampaignListResponse
	ProgressResponse          = api.ProgressResponse
	SettingsRequest           = api.SettingsRequest
	SettingsResponse          = api.SettingsResponse
	AttributionResponse       = api.AttributionResponse
	AttributionRow            = api.AttributionRow
	HoldoutResponse           = api.HoldoutResponse
	BacktestRequest           = api.BacktestRequest
	BacktestResponse          = api.BacktestResponse
	BacktestDay               = backtest.Day

	CredentialsRequest        = api.CredentialsRequest
	MeResponse                = api.MeResponse
	SiteRequest               = api.SiteRequest
	SiteResponse              = api.SiteResponse
	CreatedSiteResponse       = api.CreatedSiteResponse
	SiteListResponse          = api.SiteListResponse
	SnippetResponse           = api.SnippetResponse
	KeyRequest                = api.KeyRequest
	CreatedKeyResponse        = api.CreatedKeyResponse
	KeyListResponse           = api.KeyListResponse
	InvitationRequest         = api.InvitationRequest
	CreatedInvitationResponse = api.CreatedInvitationResponse
	AcceptResponse            = api.AcceptResponse
	MemberListResponse        = api.MemberListResponse
	AuditLogResponse          = api.AuditLogResponse
)

// Cookies and header of web sessions.
const (
	CookieSession = api.CookieSession
	CookieCSRF    = api.CookieCSRF
	HeaderCSRF    = api.HeaderCSRF
)

// Query and answer types of the segment data reader.
type (
	MembersQuery = segdata.MembersQuery
	Member       = segdata.Member
	EventsQuery  = segdata.EventsQuery
)

// Stats answers analytics queries for one site; NewClickHouseStats is the real one.
type Stats interface {
	Overview(ctx context.Context, q OverviewQuery) (Overview, error)
}

// NewClickHouseStats queries the events and subscribers tables through conn.
func NewClickHouseStats(conn driver.Conn) Stats { return stats.NewClickHouse(conn) }

// SegmentStore keeps segment definitions in the control plane, scoped by
// site; *controlplane.Store is one.
type SegmentStore interface {
	CreateSegment(ctx context.Context, siteID string, in controlplane.NewSegment) (controlplane.Segment, error)
	Segment(ctx context.Context, siteID, id string) (controlplane.Segment, error)
	Segments(ctx context.Context, siteID string) ([]controlplane.Segment, error)
	UpdateSegment(ctx context.Context, siteID, id string, in controlplane.NewSegment, ifVersion int) (controlplane.Segment, error)
	DeleteSegment(ctx context.Context, siteID, id string) error
}

// SegmentData reads segment counts, members and a subscriber's events from
// ClickHouse; NewClickHouseSegmentData is the real one.
type SegmentData interface {
	Count(ctx context.Context, q segments.SQL) (uint64, error)
	Members(ctx context.Context, q MembersQuery) ([]Member, error)
	Events(ctx context.Context, q EventsQuery) ([]segments.Event, error)
}

// NewClickHouseSegmentData queries the events and segment_membership tables through conn.
func NewClickHouseSegmentData(conn driver.Conn) SegmentData { return segdata.NewClickHouse(conn) }

// AutomationStore, CampaignStore and SettingsStore keep automations,
// campaigns and site settings in the control plane, scoped by site;
// *controlplane.Store is all three.
type (
	AutomationStore = api.AutomationStore
	CampaignStore   = api.CampaignStore
	SettingsStore   = api.SettingsStore
)

// Reports answers the push reports from ClickHouse; NewClickHouseReports is the real one.
type Reports = api.Reports

// NewClickHouseReports queries the events table through conn.
func NewClickHouseReports(conn driver.Conn) Reports { return reports.NewClickHouse(conn) }

// BacktestEvents reads the stored events backtests replay; NewClickHouseBacktestEvents is the real one.
type BacktestEvents = backtest.Source

// NewClickHouseBacktestEvents reads the events and segment_history tables through conn.
func NewClickHouseBacktestEvents(conn driver.Conn) BacktestEvents {
	return backtest.NewClickHouse(conn)
}

// Deps are what the service needs from outside; all are required but Now.
type Deps struct {
	Keys           APIKeys
	Accounts       AccountStore
	Stats          Stats
	Segments       SegmentStore
	SegmentData    SegmentData
	Automations    AutomationStore
	Campaigns      CampaignStore
	Settings       SettingsStore
	Reports        Reports
	BacktestEvents BacktestEvents
	Privacy        Privacy // subscriber export and erasure; nil: those routes answer 503
	Now            func() time.Time
}

// missing names the required dependencies that are nil.
func (d Deps) missing() []string {
	var out []string
	for _, dep := range []struct {
		name string
		nil  bool
	}{
		{"Keys", d.Keys == nil},
		{"Accounts", d.Accounts == nil},
		{"Stats", d.Stats == nil},
		{"Segments", d.Segments == nil},
		{"SegmentData", d.SegmentData == nil},
		{"Automations", d.Automations == nil},
		{"Campaigns", d.Campaigns == nil},
		{"Settings", d.Settings == nil},
		{"Reports", d.Reports == nil},
		{"BacktestEvents", d.BacktestEvents == nil},
	} {
		if dep.nil {
			out = append(out, "Deps."+dep.name)
		}
	}
	return out
}

// Service is the dashboard API.
type Service struct {
	cfg     Config
	log     *slog.Logger
	handler http.Handler
}

// HTTP server limits.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 15 * time.Second
	idleTimeout       = 90 * time.Second
	maxHeaderBytes    = 64 << 10
)

// New builds the service.
func New(cfg Config, deps Deps, log *slog.Logger) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("api config: %w", err)
	}
	if missing := deps.missing(); len(missing) > 0 {
		return nil, fmt.Errorf("api: required: %s", strings.Join(missing, ", "))
	}
	log = log.With("component", "api")
	h := api.NewRouter(api.Deps{
		Keys: deps.Keys, Stats: deps.Stats, Segments: deps.Segments, SegmentData: deps.SegmentData,
		Automations: deps.Automations, Campaigns: deps.Campaigns, Settings: deps.Settings,
		Reports: deps.Reports, Backtests: deps.BacktestEvents,
		Sessions: deps.Accounts, Accounts: deps.Accounts, Members: deps.Accounts, Sites: deps.Accounts,
		KeyAdmin: deps.Accounts, Audit: deps.Accounts, Auth: cfg.auth(), Privacy: deps.Privacy,
		Log: log, Now: deps.Now, QueryTimeout: cfg.QueryTimeout, OpenAPI: openAPI,
	})
	return &Service{cfg: cfg, log: log, handler: h}, nil
}

// Handler is the HTTP handler of the service, for tests and for mounting.
func (s *Service) Handler() http.Handler { return s.handler }

// Run listens on cfg.Addr and serves until ctx is done (see Serve).
func (s *Service) Run(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("api: listen on %s: %w", s.cfg.Addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx is done, then stops accepting and lets
// requests in flight finish within cfg.ShutdownTimeout, after which it
// closes what is left. It returns nil after a clean shutdown.
func (s *Service) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      s.cfg.QueryTimeout + 5*time.Second, // an answer may wait for its queries
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	s.log.Info("api listening", "addr", ln.Addr().String())
	select {
	case err := <-served:
		return fmt.Errorf("api: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	var errs []error
	if err := srv.Shutdown(sctx); err != nil {
		errs = append(errs, fmt.Errorf("api: graceful shutdown: %w", err), srv.Close())
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		errs = append(errs, fmt.Errorf("api: serve: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	s.log.Info("api stopped")
	return nil
}
