package automate

import (
	"context"
	"encoding/json"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/pushpipe/pushpipe/internal/controlplane"
)

// Definitions is where automation definitions live; *controlplane.Store is
// one.
type Definitions interface {
	// AutomationsSince returns the automations written after revision
	// (deleted ones included), by revision.
	AutomationsSince(ctx context.Context, revision int64) ([]controlplane.Automation, error)
	// AutomationVersion is the definition an automation had at version.
	AutomationVersion(ctx context.Context, automationID string, version int) (json.RawMessage, error)
	// EnterAutomation records that sub entered the automation at at; it
	// answers false while the previous entry is within cooldown.
	EnterAutomation(ctx context.Context, automationID, subscriberID string, at time.Time, cooldown time.Duration) (bool, error)
}

// Schedule is the table of scheduled sends; *controlplane.Store is one.
type Schedule interface {
	// InsertScheduled inserts rows whose id is not yet stored.
	InsertScheduled(ctx context.Context, rows []controlplane.ScheduledSend) (int, error)
	// CancelPending cancels the pending rows with that cancel key.
	CancelPending(ctx context.Context, cancelKey string) (int, error)
	// ClaimDue locks up to limit pending rows due at now, of sites (nil:
	// every site), hands them to fn and stores the outcomes fn returns, in
	// one transaction.
	ClaimDue(ctx context.Context, now time.Time, limit int, sites []string,
		fn func(rows []controlplane.ScheduledSend) ([]controlplane.Outcome, error)) (int, error)
}

// Policies reads the delivery policy and the dispatch log (ClaimDue writes
// it); *controlplane.Store is one.
type Policies interface {
	SitePolicy(ctx context.Context, siteID string) (controlplane.SiteSettings, error)
	RecentDispatches(ctx context.Context, siteID, subscriberID string, since time.Time) ([]time.Time, error)
}

// Campaigns is where campaigns live; *controlplane.Store is one.
type Campaigns interface {
	CampaignsToStart(ctx context.Context, now time.Time) ([]controlplane.Campaign, error)
	Campaign(ctx context.Context, siteID, id string) (controlplane.Campaign, error)
	MarkCampaign(ctx context.Context, id, status string, total int) error
	CampaignProgress(ctx context.Context, siteID, id string) (controlplane.Progress, error)
}

// Store is everything the runtime keeps in the control plane.
type Store interface {
	Definitions
	Schedule
	Policies
	Campaigns
}

// Producer writes Kafka messages; *kafka.Writer is one.
type Producer interface {
	WriteMessages(ctx context.Context, msgs ...kafka.Message) error
}
