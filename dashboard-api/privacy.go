package dashboardapi

import (
	"log/slog"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pushpipe/pushpipe/dashboard-api/internal/api"
	"github.com/pushpipe/pushpipe/dashboard-api/internal/privacy"
)

// Privacy exports and erases everything stored about one subscriber
// (GET /v1/sites/{site}/subscribers/{id}/export, DELETE
// /v1/sites/{site}/subscribers/{id}); NewPrivacy is the real one.
type Privacy = api.Privacy

// Answers and parts of the privacy operations.
type (
	ErasureResponse = api.ErasureResponse
	Erased          = privacy.Erased
	Subject         = privacy.Subject
	EventsProducer  = privacy.Producer
)

// NewPrivacy reads and deletes a subscriber's rows in the control plane db
// and ClickHouse conn, and produces the erasure event to the events topic
// through events (a *kafka.Writer with RequireAll, such as kafkax.NewWriter's).
func NewPrivacy(db *pgxpool.Pool, conn driver.Conn, events EventsProducer, log *slog.Logger) Privacy {
	return privacy.New(db, conn, events, log)
}
