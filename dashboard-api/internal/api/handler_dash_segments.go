package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/pushpipe/pushpipe/dashboard-api/internal/stats"
)

// MaxSegmentsAsked bounds the segment= parameters of one request.
const MaxSegmentsAsked = 100

// SegmentSizesResponse is the answer to GET /v1/sites/{site}/dashboards/segments:
// the size of each segment (every live one, or those asked for) at the
// start of the range and at the end of each bucket.
type SegmentSizesResponse struct {
	RangeResponse
	Segments []SegmentSizeJSON `json:"segments"`
}

// SegmentSizeJSON is one segment's size over time.
type SegmentSizeJSON struct {
	SegmentID string              `json:"segment_id"`
	Name      string              `json:"name"`
	StartSize int64               `json:"start_size"`
	Series    []SegmentBucketJSON `json:"series"`
}

// SegmentBucketJSON is one bucket: entries, exits and the size at its end.
type SegmentBucketJSON struct {
	Bucket  string `json:"bucket"`
	Entered uint64 `json:"entered"`
	Exited  uint64 `json:"exited"`
	Size    int64  `json:"size"`
}

// segmentSizes is GET /v1/sites/{site}/dashboards/segments?segment&from&to&interval&tz&format.
func (d *dashHandlers) segmentSizes(c *gin.Context) {
	r := parseDash(c.Request.URL.Query(), c.Param("site"), d.now(), "segment")
	asked := r.own["segment"]
	if len(asked) > MaxSegmentsAsked {
		r.add("segment", "is given %d times; ask for at most %d segments", len(asked), MaxSegmentsAsked)
	}
	if len(r.probs) > 0 {
		refuse(c, http.StatusBadRequest, r.probs...)
		return
	}
	ctx, cancel := d.requestContext(c)
	defer cancel()
	segs, err := d.segments.Segments(ctx, r.q.SiteID)
	if err != nil {
		d.failure(c, err, "segment")
		return
	}
	names := map[string]string{}
	var ids []string
	for _, s := range segs {
		names[s.ID] = s.Name
		ids = append(ids, s.ID)
	}
	if len(asked) > 0 {
		for _, id := range asked {
			if _, ok := names[id]; !ok {
				refuse(c, http.StatusNotFound, Problem{"segment", "this site has no segment with the id " + quoteValue(id)})
				return
			}
		}
		ids = asked
	}
	series, err := d.dash.SegmentSizes(ctx, stats.SegmentSizesQuery{OverviewQuery: r.q, SegmentIDs: ids})
	if err != nil {
		d.dashFailure(c, err)
		return
	}
	resp := SegmentSizesResponse{RangeResponse: rangeResponse(r), Segments: make([]SegmentSizeJSON, len(series))}
	for i, s := range series {
		sj := SegmentSizeJSON{SegmentID: s.SegmentID, Name: names[s.SegmentID], StartSize: s.Start, Series: make([]SegmentBucketJSON, len(s.Series))}
		for j, b := range s.Series {
			sj.Series[j] = SegmentBucketJSON{bucketStamp(b.Start, r.q.Location), b.Entered, b.Exited, b.Size}
		}
		resp.Segments[i] = sj
	}
	if r.csv {
		t := table{name: "segment-sizes", header: []string{"segment_id", "name", "bucket", "entered", "exited", "size"}}
		for _, s := range resp.Segments {
			for _, b := range s.Series {
				t.rows = append(t.rows, []any{s.SegmentID, s.Name, b.Bucket, b.Entered, b.Exited, b.Size})
			}
		}
		d.respondCSV(c, t)
		return
	}
	c.PureJSON(http.StatusOK, resp)
}

// quote quotes a value for a problem text, cut to a readable length.
func quoteValue(s string) string {
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return `"` + s + `"`
}
