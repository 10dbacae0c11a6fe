// Package retention enforces each site's retention period (sites.retention_days)
// in ClickHouse: a pass deletes the site's events older than the period,
// and the rows derived from them that are history too (segment_history,
// the hourly rollups). The current state derived from old events stays:
// the subscribers row (a subscriber still subscribed must stay reachable)
// and segment_membership (current membership, not history).
//
// It runs in the stream role, one pass per interval (the first one interval
// after start), and logs what each pass deleted. A pass checks with a count
// (cheap: site_id and the day lead the events key) before it deletes, so a
// site with nothing expired costs no mutation.
package retention
