package sink

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/segmentio/kafka-go"

	"github.com/pushpipe/pushpipe/schemas"
)

// maxReasonLen bounds the reason header of a dead-lettered message.
const maxReasonLen = 512

// decode parses one message value into a row. A non-empty reason says why
// the value is undecodable: invalid JSON, a missing event_id, site_id or
// type, or an event_id that is not a UUID.
func decode(value []byte) (row Row, reason string) {
	var ev schemas.Event
	if err := json.Unmarshal(value, &ev); err != nil {
		return Row{}, "invalid JSON: " + err.Error()
	}
	var missing []string
	if ev.EventID == "" {
		missing = append(missing, "event_id")
	}
	if ev.SiteID == "" {
		missing = append(missing, "site_id")
	}
	if ev.Type == "" {
		missing = append(missing, "type")
	}
	if len(missing) > 0 {
		return Row{}, "missing " + strings.Join(missing, ", ")
	}
	id, err := uuid.Parse(ev.EventID)
	if err != nil {
		return Row{}, fmt.Sprintf("event_id %q is not a UUID", truncate(ev.EventID, 64))
	}
	ev.EventID = id.String()
	return Row{ID: id, Event: ev}, ""
}

// deadLetter builds the dead-letter message for m: the original key, value
// and headers plus the reason and the original position.
func deadLetter(m kafka.Message, reason string) kafka.Message {
	headers := make([]kafka.Header, 0, len(m.Headers)+4)
	headers = append(headers, m.Headers...)
	headers = append(headers,
		kafka.Header{Key: schemas.HeaderDLQReason, Value: []byte(truncate(reason, maxReasonLen))},
		kafka.Header{Key: schemas.HeaderDLQTopic, Value: []byte(m.Topic)},
		kafka.Header{Key: schemas.HeaderDLQPartition, Value: []byte(strconv.Itoa(m.Partition))},
		kafka.Header{Key: schemas.HeaderDLQOffset, Value: []byte(strconv.FormatInt(m.Offset, 10))},
	)
	return kafka.Message{Key: m.Key, Value: m.Value, Headers: headers}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "..."
}
