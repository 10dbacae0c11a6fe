package ingest

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/pushpipe/pushpipe/ingest/sdk"
)

// routeSDK mounts the browser SDK (ingest/sdk: pushpipe.js, sw.js,
// demo.html) under PathSDK. The scripts are public: no site key, any origin.
//
// The sources are minified here, once per Service. Should that fail (a
// defect in the embedded sources, which the sdk package's tests catch),
// beacons are still taken: the SDK paths answer 500 with the reason, which
// is also logged.
func (s *Service) routeSDK(e *gin.Engine) {
	g := e.Group(PathSDK)
	assets, err := sdk.New()
	if err != nil {
		s.log.Error("browser SDK unavailable", "err", err)
		g.GET("/*file", func(c *gin.Context) {
			refuse(c, http.StatusInternalServerError, "", "the browser SDK could not be built: "+err.Error())
		})
		return
	}
	assets.Register(g)
}
