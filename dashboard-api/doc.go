// Package dashboardapi is the dashboard REST API: analytics for one site at a
// time from ClickHouse, authorised by the site's API key from the Postgres
// control plane. Config, New and Run follow the house pattern; the HTTP layer
// is in internal/api and the queries in internal/stats.
//
// Routes:
//
//	GET /v1/sites/{site}/stats/overview?from&to&interval&tz  (Authorization: Bearer <API key>)
//	GET /healthz
//
// It does not yet serve the web UI, accounts, segments, automations or
// campaigns.
package dashboardapi
