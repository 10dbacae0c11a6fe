package api

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// PathOpenAPI serves the OpenAPI 3 document of this API.
const PathOpenAPI = "/openapi.yaml"

// serveOpenAPI answers with the OpenAPI document spec (YAML), revalidated
// by ETag; without a document the route answers 404.
func serveOpenAPI(spec []byte) gin.HandlerFunc {
	sum := sha256.Sum256(spec)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	return func(c *gin.Context) {
		if len(spec) == 0 {
			refuse(c, http.StatusNotFound, Problem{"", "this server was built without its OpenAPI document"})
			return
		}
		c.Header("Cache-Control", "no-cache")
		c.Header("ETag", etag)
		if match := c.GetHeader("If-None-Match"); match != "" && strings.Contains(match, etag) {
			c.Status(http.StatusNotModified)
			return
		}
		c.Data(http.StatusOK, "application/yaml; charset=utf-8", spec)
	}
}
