// Package backtest answers "how many pushes would this automation have
// sent?" over a past range of stored events, without sending anything.
//
// The Simulator is pure: fed a site's events in time order, it runs the
// automation as the stream runtime (stream/internal/automate) does —
// triggers (event with filters, subscribed, segment_entered/exited from the
// stored transition events except those of reason "backfill", absence with
// its correlation key, whose second event cancels the rest of the run),
// re-entry cooldown at the trigger instant, the first step due its delay
// after the trigger (plus the absence window) and each next step its delay
// after the previous one's (possibly held) due time, scheduled only once
// the previous one was sent and unless its unless_event already happened;
// at send time a current subscription (as of the subscribed, unsubscribed
// and subscription_expired events), still_in_segment and unless_event
// (each skips the step and ends the series), the holdout (no push, series
// ended), and the site's delivery policy with a simulated dispatch log
// holding this automation's own sends (a push may be held at most 24 h after its due time, as in the
// runtime). It counts per day (in the site's default timezone) what would
// be sent, held by the policy (once per push, on the day first held),
// dropped by it, held out and skipped. Events before the range warm the
// simulation up (entries, pending absences, membership, the dispatch log)
// without being counted; the subscriptions and segment memberships before
// the warm-up are read from ClickHouse. A subscriber's timezone is that of
// their latest event read carrying one, else the site's default.
//
// Run reads the events from a Source (ClickHouse in production) after
// checking the bounds: a range of at most MaxRange, at most MaxEvents
// events read. It does not read the dispatch log of other automations or
// campaigns, nor apply the send-rate throttles.
package backtest
