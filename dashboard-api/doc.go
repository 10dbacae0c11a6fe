// Package dashboardapi is the dashboard REST API: analytics for one site at a
// time from ClickHouse, and the site's segment definitions in the Postgres
// control plane, authorised by the site's API key. Config, New and Run
// follow the house pattern; the HTTP layer is in internal/api, the
// analytics queries in internal/stats and the segment reads from ClickHouse
// in internal/segdata.
//
// Routes (every /v1 route takes Authorization: Bearer <API key of {site}>):
//
//	GET    /v1/sites/{site}/stats/overview?from&to&interval&tz
//	GET    /v1/sites/{site}/segments                      live segments, by name
//	POST   /v1/sites/{site}/segments                      {name, description?, rule | text} -> 201
//	POST   /v1/sites/{site}/segments/preview              {rule | text, at?} -> {count, at}
//	GET    /v1/sites/{site}/segments/{id}                 ETag: "<version>"
//	PUT    /v1/sites/{site}/segments/{id}                 same body; If-Match: <version> -> 409 if stale
//	DELETE /v1/sites/{site}/segments/{id}                 204; 409 while other segments refer to it
//	GET    /v1/sites/{site}/segments/{id}/members?limit&cursor
//	GET    /v1/sites/{site}/segments/{id}/explain?subscriber&at
//	GET    /healthz
//
// A segment is checked before it is saved: every problem of the rule with
// its path (under "rule." or "text."), references only to live segments of
// the same site and without cycles, and the rule must compile both to SQL
// and for the incremental evaluator. Members come from the
// segment_membership table the stream evaluator keeps; preview counts the
// compiled query on ClickHouse at an instant; explain evaluates the segment
// over one subscriber's events (at most 100,000; more is 422).
//
// It does not yet serve the web UI, accounts, automations or campaigns.
package dashboardapi
