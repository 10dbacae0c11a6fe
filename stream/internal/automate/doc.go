// Package automate runs automations and campaigns inside the stream role:
// it turns triggers into scheduled sends and scheduled sends into push
// requests, under one delivery policy.
//
// Everything that will be sent is first a row of the Postgres table
// scheduled_sends, whose id is deterministic (automation.RequestID from
// automation, step, subscriber and trigger event; automation.CampaignRequestID
// from campaign, variant and subscriber) and is also the PushRequest's
// RequestID. Rows are inserted with ON CONFLICT DO NOTHING, so a replayed
// trigger or a redone fan-out adds nothing, and the sender drops a request
// id it already delivered, so a dispatch retried after a failure never
// double-sends. Pending delayed steps survive restarts because they are rows.
//
// # Trigger consumer (consumer.go, trigger.go, catalog.go)
//
// A consumer group of its own (PUSHPIPE_AUTOMATIONS_GROUP) reads the events
// topic with FetchMessage, handles each event in partition order, and
// commits (at most every second, and on shutdown) only offsets whose rows
// are inserted. Definitions come from Postgres by polling AutomationsSince
// every second (revisions only grow) into an immutable snapshot behind an
// atomic pointer; an event ingested after the snapshot was read makes the
// consumer read it again first (at most every 25 ms), so an automation
// created just before an event triggers on it. Only enabled automations trigger: an event matching the
// trigger's segments.Match (evaluated by the segments library itself, so a
// filter means what it means in a rule); segment_entered / segment_exited of
// the trigger's segment, except transitions with reason "backfill"; a
// subscribe (welcome); or an absence's first event E1, whose step-0 row is
// due at E1.time + within + delay with cancel_key automation|subscriber|
// props[correlate]. The absence's second event E2 cancels the pending rows
// of its key (CancelPending), whatever the automation's status. A cooldown
// is applied with EnterAutomation before inserting. A row keeps the trigger
// event's props (template variables event.*), its name, URL and time (under
// keys starting with "$") and the automation version it was created under.
//
// # Dispatcher (dispatch*.go, cache.go, limits.go)
//
// One goroutine claims due rows (ClaimDue: FOR UPDATE SKIP LOCKED, 500 at a
// time) every 100 ms, and at once when the consumer inserted a row already
// due (latency: an undelayed trigger is dispatched within a few
// milliseconds of being consumed). For each row, in order:
//   - the automation's current status (paused / disabled / deleted: skipped
//     with that reason) and the row's own version of the definition, or the
//     campaign's variant;
//   - the subscription from ClickHouse subscribers FINAL (unsubscribed,
//     expired: skipped). A subscriber ClickHouse does not know yet takes the
//     subscription of the subscribe event the trigger consumer just read
//     (fresh.go, kept two minutes), so a welcome does not wait for the sink,
//     unless the message uses subscriber variables (they come from stored
//     events); otherwise the row waits 100 ms at a time, a minute at most;
//   - the step's conditions, against what ClickHouse stored since the
//     trigger: still in the segment (a run started by entering that very
//     segment counts as a member while the stored membership predates the
//     trigger), no UnlessEvent, and for absences no E2 with the same
//     correlated value;
//   - the holdout (automation.InHoldout of the automation or campaign):
//     state held_out and a push_held_out event to the events topic, with a
//     deterministic event id;
//   - the site's policy (cached 10 s): not-after, quiet hours in the
//     subscriber's timezone, frequency cap over the dispatch log; a hold
//     puts the row back with a later due time;
//   - the global (PUSHPIPE_SEND_RATE) and per-site (send_rate_per_minute)
//     token buckets: no token, the row waits until one is expected;
//   - render (pushmsg, with the subscriber's latest country, region, city,
//     language, browser, OS, device type and identify properties as
//     attr.<name>) and produce the PushRequest (key site:subscriber).
//
// The requests and held-out events of a claim are produced before its
// transaction stores the outcomes (and ClaimDue logs the dispatches); a
// failure leaves every row pending. After step k of a series is sent, step
// k+1 is inserted, due its delay after step k's due time, unless its own
// UnlessEvent already happened.
//
// With Config.OwnSites (PUSHPIPE_AUTOMATIONS_OWN_SITES, on by default) a
// runtime dispatches and fans out only for sites with events on its own
// events topic (from ClickHouse events.kafka_topic at start and every two
// minutes, and from every event it reads): stacks with topics of their own
// (tests, e2e) share one Postgres without taking each other's rows. Rows of
// other sites get no outcome and stay as they were.
//
// # Campaign fan-out (campaign.go)
//
// Every second, CampaignsToStart: members are read page by page (5,000,
// keyset pagination by subscriber id) from segment_membership FINAL, in any
// included segment and in no excluded one; each gets a variant
// (automation.PickVariant) and a due time: the schedule's instant, or its
// local time in the member's timezone on the schedule's date (the next day
// when passed), plus i × (1 min / throttle) for the i-th member. The
// campaign is marked sending with its total only after the fan-out
// completed, so a fan-out interrupted by a restart is redone (harmlessly),
// and it stops when the campaign was cancelled meanwhile. A sending
// campaign with no pending row left is marked done.
package automate
