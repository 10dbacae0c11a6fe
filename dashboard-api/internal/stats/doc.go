// Package stats answers the dashboards' analytics questions from ClickHouse
// for one site: the overview (events over time, visitors, subscriber growth,
// pushes, conversions and revenue), the opt-in funnel, campaign and
// automation delivery, custom-event trends and property breakdowns,
// conversions by goal attributed to push clicks or not, segment sizes over
// time, the subscriber list, a subscriber's timeline and the last 30
// minutes. Every query is scoped by site id and takes user input only as
// bound parameters; SQL fragments (intervals, breakdown keys) come from
// fixed tables.
//
// Time buckets are computed both here (to list every bucket, including empty
// ones) and by ClickHouse's toStartOfInterval (to count), in the caller's
// time zone; the two agree, which the integration tests check across DST
// changes and in half- and quarter-hour zones.
//
// Rollups: the overview and the event trends read the hourly rollup
// events_hourly (schemas/clickhouse/0005_rollups.sql) for the whole UTC
// hours of the range that lie after the rollup's epoch, and the raw events
// for the rest (the range's ragged ends, anything older than the epoch, and
// every range whose buckets do not start on UTC hours, as in Asia/Kolkata).
// The answer is the same either way (tests hold the two paths equal);
// distinct counts use uniqCombined(14) on both paths.
//
// It does no authentication or input validation beyond what the types
// enforce; the API layer decides who may ask what.
package stats
