package api

import (
	"encoding/csv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCSVCellNeutralisesFormulas(t *testing.T) {
	half := 0.5
	tests := []struct {
		in   any
		want string
	}{
		{"=HYPERLINK(\"http://evil\")", "'=HYPERLINK(\"http://evil\")"},
		{"+1+2", "'+1+2"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\t=1", "'\t=1"},
		{"\r=1", "'\r=1"},
		{"a=1", "a=1"},
		{"", ""},
		{"naïve", "naïve"},
		{int64(-5), "-5"}, // our numbers are numbers
		{uint64(12), "12"},
		{1.25, "1.25"},
		{&half, "0.5"},
		{(*float64)(nil), ""},
		{nil, ""},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, csvCell(tt.in), "%#v", tt.in)
	}
}

func TestEncodeCSVIsRFC4180(t *testing.T) {
	body, err := encodeCSV(table{
		header: []string{"key", "n"},
		rows: [][]any{
			{"plain", uint64(1)},
			{"with, comma", uint64(2)},
			{`with "quotes"`, uint64(3)},
			{"two\nlines", uint64(4)},
			{"=1+1", uint64(5)},
			{"short row"},
		},
	})
	require.NoError(t, err)
	want := "key,n\r\nplain,1\r\n\"with, comma\",2\r\n\"with \"\"quotes\"\"\",3\r\n\"two\r\nlines\",4\r\n'=1+1,5\r\nshort row,\r\n"
	require.Equal(t, want, string(body))

	records, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	require.NoError(t, err)
	require.Len(t, records, 7)
	require.Equal(t, `with "quotes"`, records[3][0], "a reader gets the text back")
}
