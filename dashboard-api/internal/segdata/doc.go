// Package segdata reads what the dashboard shows about segments from
// ClickHouse: how many subscribers a compiled rule selects (preview), the
// current members of a saved segment (the segment_membership table, kept
// by the stream evaluator's segment_entered/segment_exited events), and one
// subscriber's events for an explanation.
//
// Every query is scoped by site id and takes user input only as bound
// parameters. It does not parse or compile rules (package segments does) and
// checks no permissions (the API layer does).
package segdata
