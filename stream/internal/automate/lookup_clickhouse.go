package automate

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/pushpipe/pushpipe/schemas"
	"github.com/pushpipe/pushpipe/segments"
)

// Subscriber is what the dispatcher needs of one subscriber at send time.
type Subscriber struct {
	Status       string // subscribed, unsubscribed, expired
	Subscription schemas.PushSubscription
	Timezone     string            // IANA name; "" unknown
	Attrs        map[string]string // template variables: country, city, language, browser, os, attr.<name>
}

// Member is one subscriber of a campaign's audience.
type Member struct {
	ID       string
	Timezone string
}

// Audience selects a campaign's members: in any of Include, in none of
// Exclude.
type Audience struct {
	Site             string
	Include, Exclude []string
}

// Lookup reads what the sink stored in ClickHouse; *ClickHouse is one.
type Lookup interface {
	// Subscribers returns the known subscribers among ids of site, with
	// their Attrs when attrs is set.
	Subscribers(ctx context.Context, site string, ids []string, attrs bool) (map[string]Subscriber, error)
	// Membership is the stored membership of sub in segment and when it last
	// changed; found is false when no transition is stored.
	Membership(ctx context.Context, site, segment, sub string) (member bool, changed time.Time, found bool, err error)
	// Events returns sub's stored events of type typ with from < time <= to.
	Events(ctx context.Context, site, sub, typ string, from, to time.Time) ([]segments.Event, error)
	// Members returns up to limit members of a, by subscriber id, after the id after.
	Members(ctx context.Context, a Audience, after string, limit int) ([]Member, error)
	// TopicSites returns the sites with events stored from topic.
	TopicSites(ctx context.Context, topic string) ([]string, error)
}

// ClickHouse is the Lookup of the stored events, subscribers and segment
// membership.
type ClickHouse struct {
	conn driver.Conn
	log  *slog.Logger
}

// NewClickHouse reads through conn; the caller owns conn.
func NewClickHouse(conn driver.Conn, log *slog.Logger) *ClickHouse {
	return &ClickHouse{conn: conn, log: log.With("component", "automations")}
}

// Subscribers implements Lookup.
func (c *ClickHouse) Subscribers(ctx context.Context, site string, ids []string, attrs bool) (map[string]Subscriber, error) {
	out := make(map[string]Subscriber, len(ids))
	q := `SELECT subscriber_id, status, endpoint, p256dh, auth, timezone
		FROM subscribers FINAL WHERE site_id = ? AND subscriber_id IN ?`
	rows, err := c.conn.Query(ctx, q, site, ids)
	if err != nil {
		return nil, fmt.Errorf("read subscribers: %w", err)
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var id string
		var s Subscriber
		if err := rows.Scan(&id, &s.Status, &s.Subscription.Endpoint, &s.Subscription.P256dh, &s.Subscription.Auth, &s.Timezone); err != nil {
			return nil, fmt.Errorf("read subscribers: %w", err)
		}
		out[id] = s
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read subscribers: %w", err)
	}
	if !attrs || len(out) == 0 {
		return out, nil
	}
	return out, c.attributes(ctx, site, ids, out)
}

const attributesQuery = `SELECT subscriber_id,
	argMaxIf(country, time, country != ''), argMaxIf(region, time, region != ''), argMaxIf(city, time, city != ''),
	argMaxIf(language, time, language != ''), argMaxIf(browser, time, browser != ''),
	argMaxIf(os, time, os != ''), argMaxIf(device_type, time, device_type != ''),
	arrayMap(x -> x.2, arraySort(x -> x.1, groupArrayIf((time, props), type = 'identify')))
FROM events
WHERE site_id = ? AND subscriber_id IN ? AND type NOT IN ('segment_entered', 'segment_exited')
GROUP BY subscriber_id`

// attributes adds the template variables of the subscribers in out: the
// latest non-empty device and location fields and the identify properties
// (later identify calls override earlier ones) as attr.<name>.
func (c *ClickHouse) attributes(ctx context.Context, site string, ids []string, out map[string]Subscriber) error {
	rows, err := c.conn.Query(ctx, attributesQuery, site, ids)
	if err != nil {
		return fmt.Errorf("read subscriber attributes: %w", err)
	}
	defer func() { _ = rows.Close() }()
	names := []string{"country", "region", "city", "language", "browser", "os", "device_type"}
	for rows.Next() {
		var id string
		vals := make([]string, len(names))
		var identifies []map[string]string
		dest := []any{&id}
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		if err := rows.Scan(append(dest, &identifies)...); err != nil {
			return fmt.Errorf("read subscriber attributes: %w", err)
		}
		s, ok := out[id]
		if !ok {
			continue
		}
		s.Attrs = make(map[string]string, len(names))
		for i, n := range names {
			if vals[i] != "" {
				s.Attrs[n] = vals[i]
			}
		}
		for _, props := range identifies {
			for k, v := range props {
				s.Attrs["attr."+k] = v
			}
		}
		out[id] = s
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read subscriber attributes: %w", err)
	}
	return nil
}

// Membership implements Lookup.
func (c *ClickHouse) Membership(ctx context.Context, site, segment, sub string) (bool, time.Time, bool, error) {
	rows, err := c.conn.Query(ctx, `SELECT member, changed_at FROM segment_membership FINAL
		WHERE site_id = ? AND segment_id = ? AND subscriber_id = ?`, site, segment, sub)
	if err != nil {
		return false, time.Time{}, false, fmt.Errorf("read segment membership: %w", err)
	}
	defer func() { _ = rows.Close() }()
	if !rows.Next() {
		return false, time.Time{}, false, rows.Err()
	}
	var member uint8
	var changed time.Time
	if err := rows.Scan(&member, &changed); err != nil {
		return false, time.Time{}, false, fmt.Errorf("read segment membership: %w", err)
	}
	return member == 1, changed, true, nil
}

// Events implements Lookup.
func (c *ClickHouse) Events(ctx context.Context, site, sub, typ string, from, to time.Time) ([]segments.Event, error) {
	rows, err := c.conn.Query(ctx, `SELECT toString(event_id), type, name, time, url, revenue, props
		FROM events WHERE site_id = ? AND subscriber_id = ? AND type = ?
			AND time > fromUnixTimestamp64Milli(?, 'UTC') AND time <= fromUnixTimestamp64Milli(?, 'UTC')
		ORDER BY time`, site, sub, typ, from.UnixMilli(), to.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("read events of %s: %w", sub, err)
	}
	defer func() { _ = rows.Close() }()
	var out []segments.Event
	for rows.Next() {
		var e segments.Event
		if err := rows.Scan(&e.ID, &e.Type, &e.Name, &e.Time, &e.URL, &e.Revenue, &e.Props); err != nil {
			return nil, fmt.Errorf("read events of %s: %w", sub, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read events of %s: %w", sub, err)
	}
	return out, nil
}

// Members implements Lookup: keyset pagination by subscriber id.
func (c *ClickHouse) Members(ctx context.Context, a Audience, after string, limit int) ([]Member, error) {
	exclude := a.Exclude
	if len(exclude) == 0 {
		exclude = []string{""} // IN () is not valid SQL; no segment has the empty id
	}
	q := `SELECT m.subscriber_id, s.tz FROM (
		SELECT DISTINCT subscriber_id FROM segment_membership FINAL
		WHERE site_id = ? AND segment_id IN ? AND member = 1 AND subscriber_id > ?
			AND subscriber_id NOT IN (SELECT subscriber_id FROM segment_membership FINAL
				WHERE site_id = ? AND segment_id IN ? AND member = 1)
		ORDER BY subscriber_id LIMIT ?) AS m
	LEFT JOIN (SELECT subscriber_id, timezone AS tz FROM subscribers FINAL WHERE site_id = ?) AS s
		ON s.subscriber_id = m.subscriber_id
	ORDER BY m.subscriber_id`
	rows, err := c.conn.Query(ctx, q, a.Site, a.Include, after, a.Site, exclude, limit, a.Site)
	if err != nil {
		return nil, fmt.Errorf("read campaign members: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []Member
	for rows.Next() {
		var m Member
		if err := rows.Scan(&m.ID, &m.Timezone); err != nil {
			return nil, fmt.Errorf("read campaign members: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read campaign members: %w", err)
	}
	return out, nil
}

// TopicSites implements Lookup.
func (c *ClickHouse) TopicSites(ctx context.Context, topic string) ([]string, error) {
	rows, err := c.conn.Query(ctx, `SELECT DISTINCT site_id FROM events WHERE kafka_topic = ?`, topic)
	if err != nil {
		return nil, fmt.Errorf("read the sites of %s: %w", topic, err)
	}
	defer func() { _ = rows.Close() }()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("read the sites of %s: %w", topic, err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the sites of %s: %w", topic, err)
	}
	return out, nil
}
