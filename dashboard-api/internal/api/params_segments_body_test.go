package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"
)

func TestDecodeBodyRefusesBadText(t *testing.T) {
	cases := map[string]string{
		"invalid UTF-8":  "{\"name\":\"bad \xff\xfe\"}",
		"escaped NUL":    `{"name":"a\u0000b"}`,
		"raw NUL":        "{\"name\":\"a\x00b\"}",
		"deeply nested":  `{"name":` + strings.Repeat("[", 20_000) + strings.Repeat("]", 20_000) + `}`,
		"trailing value": `{"name":"x"} {}`,
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			c, _ := gin.CreateTestContext(rec)
			c.Request = httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/", strings.NewReader(body))
			var v struct {
				Name any `json:"name"`
			}
			require.False(t, decodeBody(c, &v))
			require.Equal(t, http.StatusBadRequest, rec.Code)
			require.Contains(t, rec.Body.String(), `"errors"`)
		})
	}
}
