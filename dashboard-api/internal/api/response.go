package api

import (
	"github.com/gin-gonic/gin"
)

// Problem is one thing wrong with a request: the parameter or header at
// fault, and what to do about it.
type Problem struct {
	Field   string `json:"field"`
	Problem string `json:"problem"`
}

// ErrorBody is the answer to every refused request.
type ErrorBody struct {
	Errors []Problem `json:"errors"`
}

// refuse answers with status and the problems, and stops the handler chain.
func refuse(c *gin.Context, status int, probs ...Problem) {
	c.AbortWithStatusPureJSON(status, ErrorBody{Errors: probs})
}
