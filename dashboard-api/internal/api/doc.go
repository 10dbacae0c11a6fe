// Package api is the dashboard REST API's HTTP layer: routes, API-key
// authentication and site authorisation, parameter validation, and JSON
// answers. It talks to storage only through the small interfaces in deps.go,
// so handlers are tested with fakes; the queries themselves live in packages
// stats, segdata and reports, the backtest simulation in package backtest,
// definitions and settings in the control plane.
//
// Segment rules are parsed, validated and compiled here with package
// segments (the control plane stores them as plain JSON): see rules_site.go
// for the checks against the site's other segments. Deleting a segment that
// a live segment refers to is refused; the check and the delete are not one
// transaction, so a referrer saved in between can still be left with a
// dangling reference (the evaluator reports it as an unknown segment).
//
// Automation and campaign definitions are parsed and validated with package
// automation; their problems come back under "definition." with the
// package's paths (steps[1].message.title, variants[0].message, ...), and
// the segments they name are checked against the site's live segments, so
// no definition can reach another site's segment. Resources of another
// site named under one's own path are 404, like unknown ids.
//
// Every route under /v1/sites/{site} is in one of three gin groups made in
// routes.go, read, write and owner (middleware_auth.go): the principal is a
// bearer API key (scope read or write) or a web session cookie (the
// account's role on {site}: viewer, editor, owner). A key of another site,
// or an account without a role on {site}, gets 403 whether or not {site}
// exists, so the API never tells one tenant about another. Cookie sessions
// must send their CSRF token on unsafe methods; API keys need none (they
// are never sent by a browser on its own). Handlers name who made a change
// with actor(c) and record it with h.audit.
package api
