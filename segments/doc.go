// Package segments holds the segment rule language: the rule model, its JSON
// form, validation, and a readable text form that round-trips with it. Pure
// code, no I/O; it imports only the standard library and package schemas.
//
// # Rules
//
// A Rule is a tree. Groups: and / or (two or more Children), not (one Child).
// Conditions:
//
//   - attribute: Field Op Value on the subscriber. Fields are country, region,
//     city, browser, os, device_type, language, timezone, status, first_seen,
//     last_seen, or attr.<name> for identify attributes. Operators: eq, neq,
//     in (1 to 100 values), contains, starts_with, regex (RE2), gt, gte, lt,
//     lte (numbers; RFC 3339 instants for first_seen and last_seen), exists
//     (no value).
//   - event: a Match (event type, optional name, optional filters on url,
//     revenue, props.<key> with the same operators), optionally a Count
//     (op and N; absent means at least once), Within the last window.
//   - first / last: the first or last matching event happened before or
//     after the instant At, or within the last window.
//   - sequence: Event happened but ThenNot did not follow within the window,
//     optionally on the same value of the property Correlate.
//   - inactive: no activity event (one the subscriber's browser sent) within the window.
//   - segment: member of another segment, by id.
//
// Windows are whole minutes, hours or days ("30m", "1h", "7d"), from 1m to
// 90d. Limits: depth 8, 64 conditions.
//
// # Forms
//
// Parse reads JSON ({"kind": "...", ...}; see rule_json.go) and Validate
// reports every problem at once with its path, such as
// "and[1].event.within"; unknown fields are refused with their path.
// Format and ParseText write and read the text form, for example
//
//	country in ("FR", "DE") and event add_to_cart where props.price > 50 count >= 2 within 7d and not event purchase within 1h
//
// where "and" binds tighter than "or", filters after where are separated by
// commas, and a syntax error is a *TextError with line and column. For every
// valid rule, ParseText(Format(r)) and Parse(json.Marshal(r)) equal r.
//
// # SQL
//
// Compile turns a rule into a ClickHouse query (SQL: text plus named
// parameters for clickhouse.Named) returning the members of a site at an
// instant T; CompileWith also compiles segment references through a
// Resolver. What membership at T means is defined in DESIGN.md ("Segment
// membership at instant T"). Every value is a bound parameter.
//
// # Evaluators
//
// NewSet compiles the segments of one site (references resolved, cycles
// refused, shared conditions kept once). The incremental evaluator keeps a
// bounded Subscriber state per subscriber: Apply adds an event, Members
// evaluates every segment at an instant, Next gives the next instant a
// window ends so the runtime can set a timer. Explain evaluates one segment
// directly over a subscriber's events and says why each node held. The
// three agree: eval_test.go checks incremental against Explain on random
// worlds, eval_equivalence_test.go checks incremental against the compiled
// SQL on the real ClickHouse (make segments-equivalence).
package segments
