// Package privacy answers a data subject's requests about one subscriber of
// one site: Export streams everything Pushpipe stores about them as one JSON
// document, Erase deletes it everywhere.
//
// Where a subscriber's data lives:
//   - ClickHouse: every table of the MergeTree family with both a site_id and
//     a subscriber_id column, found in system.columns at request time (events,
//     subscribers, segment_membership, segment_history, and any later one).
//     Aggregates without a subscriber_id (events_hourly: counts and uniq
//     states) hold no row of theirs and are left alone.
//   - Postgres: scheduled_sends, dispatch_log, automation_entries, and
//     push_deliveries (which has no subscriber_id: its rows are found by
//     request id, from the subscriber's scheduled sends, dispatches and the
//     push ids of their events).
//   - The stream role's memory: the segment evaluator's state and timers,
//     dropped when it reads the schemas.EventSubscriberErased event Erase
//     produces first.
//
// Every query is scoped by site id and subscriber id, both bound
// parameters. The package checks no permissions (the API layer does).
package privacy
