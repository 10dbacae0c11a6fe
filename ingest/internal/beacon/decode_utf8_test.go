package beacon

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDecodeEventRefusesInvalidUTF8(t *testing.T) {
	raw := json.RawMessage("{\"type\":\"page_view\",\"subscriber_id\":\"s1\",\"url\":\"https://shop.example/\xff\xfe\"}")
	_, probs := DecodeEvent(3, raw)
	require.Equal(t, []Problem{{Index: 3, Problem: "is not valid UTF-8"}}, probs)

	ok := json.RawMessage(`{"type":"page_view","subscriber_id":"s1","url":"https://shop.example/é"}`)
	_, probs = DecodeEvent(0, ok)
	require.Empty(t, probs)
}
