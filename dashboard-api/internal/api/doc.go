// Package api is the dashboard REST API's HTTP layer: routes, API-key
// authentication and site authorisation, parameter validation, and JSON
// answers. It talks to storage only through the small interfaces in deps.go,
// so handlers are tested with fakes; the queries themselves live in package
// stats.
//
// Every route under /v1/sites/{site} is authorised the same way: the bearer
// API key must belong to {site}. A key for another site gets 403 whether or
// not {site} exists, so the API never tells one tenant about another.
package api
