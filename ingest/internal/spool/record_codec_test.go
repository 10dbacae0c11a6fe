package spool

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRecordCodec(t *testing.T) {
	payloads := [][]byte{[]byte("a"), {}, []byte(`{"event_id":"x"}`)}
	var buf []byte
	for _, p := range payloads {
		buf = appendRecord(buf, p)
	}
	got, n, err := decodeRecords(buf, 10)
	require.NoError(t, err)
	require.Equal(t, len(buf), n)
	require.Equal(t, []string{"a", "", `{"event_id":"x"}`}, strs(got))

	got, n, err = decodeRecords(buf[:len(buf)-1], 10)
	require.NoError(t, err, "a record cut off at the end is left for later")
	require.Len(t, got, 2)
	require.Equal(t, int(recordSize(1)+recordSize(0)), n)

	got, _, err = decodeRecords(buf, 1)
	require.NoError(t, err)
	require.Len(t, got, 1, "at most max")

	bad := append([]byte(nil), buf...)
	bad[headerSize] ^= 1 // the first payload byte
	_, _, err = decodeRecords(bad, 10)
	require.ErrorIs(t, err, ErrCorrupt)
	bad = append([]byte(nil), buf...)
	bad[0] ^= 2 // the first length: the checksum covers it too
	_, _, err = decodeRecords(bad, 10)
	require.ErrorIs(t, err, ErrCorrupt)
}
