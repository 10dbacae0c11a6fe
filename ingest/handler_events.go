package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/pushpipe/pushpipe/ingest/internal/beacon"
	"github.com/pushpipe/pushpipe/ingest/internal/spool"
	"github.com/pushpipe/pushpipe/internal/controlplane"
)

// Where a beacon names its site: the query parameter (the only way with
// navigator.sendBeacon) or the header.
const (
	QuerySiteKey  = "site_key"
	HeaderSiteKey = "X-Pushpipe-Site-Key"
)

// maxSiteKeyLen bounds a site key worth looking up (real ones are 26 characters).
const maxSiteKeyLen = 128

// handleEvents is POST /v1/events.
func (s *Service) handleEvents(c *gin.Context) {
	site, ok := s.authorize(c)
	if !ok {
		return
	}
	if origin := c.GetHeader("Origin"); origin != "" {
		allowOrigin(c, origin)
	}
	if !acceptedContentType(c.GetHeader("Content-Type")) {
		refuse(c, http.StatusUnsupportedMediaType, "Content-Type",
			"must be application/json or text/plain (as navigator.sendBeacon sends a string)")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, s.cfg.MaxBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		refuse(c, http.StatusRequestEntityTooLarge, "", fmt.Sprintf("body is larger than %d bytes; send fewer events per beacon", s.cfg.MaxBody))
		return
	case err != nil:
		refuse(c, http.StatusBadRequest, "", "could not read the body: "+err.Error())
		return
	}
	batch, probs := beacon.Decode(body)
	if len(probs) > 0 {
		reply(c, http.StatusBadRequest, Response{Rejected: len(batch.Events), Errors: probs})
		return
	}
	s.accept(c, site, batch)
}

// accept validates and enriches the events of a decoded beacon, produces the
// valid ones in one write, and answers.
func (s *Service) accept(c *gin.Context, site controlplane.Site, batch beacon.Batch) {
	b, err := s.build(s.requestInfo(c, site, batch.SentAt), batch)
	if err != nil {
		_ = c.Error(err)
		refuse(c, http.StatusInternalServerError, "", "internal error; nothing of this beacon was accepted")
		return
	}
	if len(b.msgs) > 0 {
		if err := s.deliver(context.WithoutCancel(c.Request.Context()), b.msgs); err != nil {
			_ = c.Error(fmt.Errorf("store %d events for %s: %w", len(b.msgs), s.cfg.Topic, err))
			s.unavailable(c, err, len(batch.Events), b.problems)
			return
		}
	}
	status := http.StatusAccepted
	if len(b.problems) > 0 {
		status = http.StatusBadRequest
	}
	reply(c, status, Response{Accepted: len(b.ids), EventIDs: b.ids, Rejected: len(batch.Events) - len(b.ids), Errors: b.problems})
}

// unavailable answers 503 with Retry-After to a beacon whose events could
// not be made durable: nothing of it counts as accepted, and the client
// retries it with the same event ids.
func (s *Service) unavailable(c *gin.Context, err error, events int, problems []Problem) {
	retry, why := retryAfterSeconds, "Kafka did not acknowledge them"
	switch {
	case errors.Is(err, spool.ErrFull):
		retry, why = retryAfterSpoolFull, "Kafka did not acknowledge them and the disk spool is full"
	case s.spool != nil:
		why = "Kafka did not acknowledge them and the disk spool failed"
	}
	c.Header("Retry-After", strconv.Itoa(retry))
	reply(c, http.StatusServiceUnavailable, Response{Rejected: events, Errors: append(problems, Problem{
		Index: beacon.BodyIndex, Problem: "the events could not be stored (" + why + "); nothing of this beacon was accepted: retry it later",
	})})
}

// authorize finds the site of the request and checks its Origin, answering
// the request itself (401, 403 or 503) when it must be refused.
func (s *Service) authorize(c *gin.Context) (controlplane.Site, bool) {
	key := c.Query(QuerySiteKey)
	if key == "" {
		key = c.GetHeader(HeaderSiteKey)
	}
	if key == "" {
		refuse(c, http.StatusUnauthorized, QuerySiteKey,
			"missing site key: pass it as the site_key query parameter or the "+HeaderSiteKey+" header")
		return controlplane.Site{}, false
	}
	site, err := s.lookupSite(c.Request.Context(), key)
	switch {
	case errors.Is(err, controlplane.ErrNotFound):
		refuse(c, http.StatusUnauthorized, QuerySiteKey, "unknown site key")
		return controlplane.Site{}, false
	case err != nil:
		_ = c.Error(err)
		refuse(c, http.StatusServiceUnavailable, "", "the site could not be looked up; retry later")
		return controlplane.Site{}, false
	}
	c.Set(ctxSiteID, site.ID)
	if origin := c.GetHeader("Origin"); origin != "" && !originAllowed(site.AllowedOrigins, origin) {
		refuse(c, http.StatusForbidden, "Origin",
			fmt.Sprintf("origin %q is not allowed to send beacons for this site (add it to the site's allowed origins)", origin))
		return controlplane.Site{}, false
	}
	return site, true
}

func (s *Service) lookupSite(ctx context.Context, key string) (controlplane.Site, error) {
	if len(key) > maxSiteKeyLen {
		return controlplane.Site{}, fmt.Errorf("site key too long: %w", controlplane.ErrNotFound)
	}
	return s.sites.SiteByKey(ctx, key)
}

// acceptedContentType accepts JSON and, for navigator.sendBeacon, plain text.
func acceptedContentType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || mt == "text/plain")
}
