// Package dashboardapi is the dashboard REST API: analytics and push
// reports for one site at a time from ClickHouse, and the site's segments,
// automations, campaigns and delivery settings in the Postgres control
// plane, for accounts with a role on the site (web sessions) and the site's
// API keys. Config, New and Run follow the
// house pattern; the HTTP layer is in internal/api, the analytics queries
// in internal/stats, the segment reads from ClickHouse in internal/segdata,
// conversion attribution and campaign counts in internal/reports, and the
// automation backtest in internal/backtest.
//
// Accounts and tenancy. A request is made by a web session (the HttpOnly
// cookie pushpipe_session; every unsafe method also sends the session's
// CSRF token in X-CSRF-Token) or by an API key (Authorization: Bearer).
// Every route under /v1/sites/{site} needs one of three levels: read
// (viewer, editor, owner, or a key of any scope), write (editor, owner, or
// a write key) or owner (owners only, never a key). No principal is 401, a
// principal without that level on {site} 403, another site's resource
// under {site} 404. Requests are rate-limited per key or account, and
// sign-up, log-in and reset per client address (429 with Retry-After).
// Every change is written to the site's audit log.
//
//	POST   /v1/auth/signup                                {email, password} -> 201, session cookies
//	POST   /v1/auth/login                                 {email, password} -> session cookies
//	POST   /v1/auth/logout                                204, session ended
//	POST   /v1/auth/password-reset                        {email} -> 202; the link is logged (the e-mail)
//	POST   /v1/auth/password-reset/confirm                {token, password} -> 204; every session ends
//	GET    /v1/me                                         account or key, csrf_token, sites with roles
//	GET    /v1/sites                                      the caller's sites
//	POST   /v1/sites                                      (accounts) {name, contact, allowed_origins?, anonymize_ip?, retention_days?} -> 201 owner; VAPID keys made, first API key shown once, snippet
//	POST   /v1/invitations/accept                         (accounts) {token}: join with the invited role
//	GET    /v1/sites/{site}                               read
//	PUT    /v1/sites/{site}                               owner: name, allowed origins, IP anonymisation, retention days, contact
//	GET    /v1/sites/{site}/snippet                       read: the SDK snippet
//	GET    /v1/sites/{site}/keys                          owner; POST {name, scope: read|write} -> secret shown once; DELETE /keys/{id} revokes
//	GET    /v1/sites/{site}/members                       owner: members and pending invitations
//	PUT    /v1/sites/{site}/members/{account}             owner: {role}; DELETE removes; the last owner stays (409)
//	POST   /v1/sites/{site}/invitations                   owner: {email, role} -> the accept link (also logged); DELETE /invitations/{id}
//	GET    /v1/sites/{site}/audit?limit&cursor            owner: newest first
//
// Analytics, segments, automations and campaigns (reads: read level;
// creating, changing, deleting, scheduling and delivery settings: write):
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
package dashboardapi
