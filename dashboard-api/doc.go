// Package dashboardapi is the dashboard REST API: analytics and push
// reports for one site at a time from ClickHouse, and the site's segments,
// automations, campaigns and delivery settings in the Postgres control
// plane, authorised by the site's API key. Config, New and Run follow the
// house pattern; the HTTP layer is in internal/api, the analytics queries
// in internal/stats, the segment reads from ClickHouse in internal/segdata,
// conversion attribution and campaign counts in internal/reports, and the
// automation backtest in internal/backtest.
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
//	GET    /v1/sites/{site}/automations                   live automations
//	POST   /v1/sites/{site}/automations                   {name, status?, definition} -> 201 (paused unless status)
//	GET    /v1/sites/{site}/automations/{id}              ETag: "<version>"
//	PUT    /v1/sites/{site}/automations/{id}              same body; If-Match: <version> -> 409 if stale; a new version
//	DELETE /v1/sites/{site}/automations/{id}              204
//	POST   /v1/sites/{site}/automations/{id}/status       {status: enabled|paused|disabled}
//	GET    /v1/sites/{site}/automations/{id}/versions/{v} every version is kept
//	POST   /v1/sites/{site}/automations/{id}/backtest     {from?, to?, definition?} -> {days, total}
//	POST   /v1/sites/{site}/automations/backtest          {from?, to?, definition} (unsaved)
//	GET    /v1/sites/{site}/campaigns                     newest first
//	POST   /v1/sites/{site}/campaigns                     {name, definition} -> 201 draft
//	GET    /v1/sites/{site}/campaigns/{id}
//	PUT    /v1/sites/{site}/campaigns/{id}                draft or scheduled only, else 409
//	DELETE /v1/sites/{site}/campaigns/{id}                draft only, else 409
//	POST   /v1/sites/{site}/campaigns/{id}/schedule       draft -> scheduled
//	POST   /v1/sites/{site}/campaigns/{id}/cancel         and its pending pushes
//	GET    /v1/sites/{site}/campaigns/{id}/progress       control-plane states + sent/failed/delivered/clicked events
//	GET    /v1/sites/{site}/settings                      delivery policy, attribution window, send rate
//	PUT    /v1/sites/{site}/settings                      fields left out keep their value
//	GET    /v1/sites/{site}/reports/attribution?from&to&by=campaign|automation|step|variant
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
// Automation and campaign definitions are checked before they are saved
// with package automation (problems under "definition.", the encrypted size
// of every message included) and every segment they name must be a live
// segment of the site. Attribution is computed at query time (see
// internal/reports); a backtest replays at most 31 days and 2,000,000 stored
// events (more is 422) and sends nothing.
//
// It does not yet serve the web UI or accounts.
package dashboardapi
