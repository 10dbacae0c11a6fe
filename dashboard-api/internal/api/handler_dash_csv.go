package api

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
)

// table is one dashboard table as CSV: a header row and rows of cells.
// String cells are text from the data (names, URLs, property values) and
// are neutralised against spreadsheet formulas; numbers are written as
// numbers.
type table struct {
	name   string // file name stem, such as "funnel"
	header []string
	rows   [][]any
}

// formulaStarts are the first characters that make a spreadsheet read a
// cell as a formula (OWASP CSV injection), tab and carriage return included.
const formulaStarts = "=+-@\t\r"

// csvCell formats one cell: strings are neutralised by a leading single
// quote when they start like a formula; numbers are plain; nil is empty.
func csvCell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		if x != "" && bytes.IndexByte([]byte(formulaStarts), x[0]) >= 0 {
			return "'" + x
		}
		return x
	case uint64:
		return strconv.FormatUint(x, 10)
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case *float64:
		if x == nil {
			return ""
		}
		return strconv.FormatFloat(*x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	default:
		return csvCell("?")
	}
}

// encodeCSV writes t as RFC 4180 CSV: CRLF line ends, fields quoted when
// they hold a comma, a quote or a line break.
func encodeCSV(t table) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	if err := w.Write(t.header); err != nil {
		return nil, err
	}
	record := make([]string, len(t.header))
	for _, row := range t.rows {
		for i := range record {
			record[i] = ""
			if i < len(row) {
				record[i] = csvCell(row[i])
			}
		}
		if err := w.Write(record); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

// respondCSV answers t as a CSV attachment.
func (h *handlers) respondCSV(c *gin.Context, t table) {
	body, err := encodeCSV(t)
	if err != nil {
		h.internalError(c, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="`+t.name+`.csv"`)
	c.Data(http.StatusOK, "text/csv; charset=utf-8", body)
}
