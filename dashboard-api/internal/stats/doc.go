// Package stats answers the dashboard's analytics questions from ClickHouse:
// event counts over time, unique visitors and subscriber growth for one site.
// Every query is scoped by site id and takes user input only as query
// parameters. Time buckets are computed both here (to list every bucket,
// including empty ones) and by ClickHouse's toStartOfInterval (to count), in
// the caller's time zone; the two agree, which the integration tests check.
//
// It does no authentication or input validation beyond what the types
// enforce; the API layer decides who may ask what.
package stats
