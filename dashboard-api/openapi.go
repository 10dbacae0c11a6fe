package dashboardapi

import (
	"bytes"
	_ "embed" // the OpenAPI document
)

// openAPI is the OpenAPI 3 document of the API, served at /openapi.yaml.
//
//go:embed openapi.yaml
var openAPI []byte

// OpenAPI returns the OpenAPI 3 document (YAML) of every /v1 route of the
// API; a test keeps it equal to the routes the router registers.
func OpenAPI() []byte { return bytes.Clone(openAPI) }
