package ingest

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/pushpipe/pushpipe/ingest/internal/beacon"
)

// Problem is one thing wrong with a beacon: Index is the event's position in
// events, or -1 for the body (and for requests refused as a whole); Field is
// the JSON field ("subscription.endpoint", "props.plan"), or the query
// parameter or header at fault.
type Problem = beacon.Problem

// Response is the answer to POST /v1/events, whatever the status: 202 when
// every event was accepted, 400 when any was rejected (the accepted ones are
// nonetheless durable), and 401, 403, 413, 415, 500 or 503 with nothing
// accepted. Accepted means in Kafka, or fsync'd to the disk spool while
// Kafka does not acknowledge (replayed to Kafka in order when it does).
type Response struct {
	Accepted int       `json:"accepted"`
	EventIDs []string  `json:"event_ids"` // of the accepted events, in the order sent
	Rejected int       `json:"rejected"`
	Errors   []Problem `json:"errors"`
}

// What a client is told to wait: when Kafka or the control plane is
// unavailable, and when Kafka has been unavailable long enough to fill the
// spool (an outage of minutes, not a blip).
const (
	retryAfterSeconds   = 2
	retryAfterSpoolFull = 10
)

// refuse answers a request refused as a whole, with one body-level problem.
func refuse(c *gin.Context, status int, field, problem string) {
	if status == http.StatusServiceUnavailable {
		c.Header("Retry-After", strconv.Itoa(retryAfterSeconds))
	}
	reply(c, status, Response{Errors: []Problem{{Index: beacon.BodyIndex, Field: field, Problem: problem}}})
}

func reply(c *gin.Context, status int, r Response) {
	if r.EventIDs == nil {
		r.EventIDs = []string{}
	}
	if r.Errors == nil {
		r.Errors = []Problem{}
	}
	c.AbortWithStatusJSON(status, r)
}
