package enrich

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/schemas"
)

func TestDevicesParse(t *testing.T) {
	d := NewDevices()
	tests := []struct {
		ua   string
		want schemas.Device
	}{
		{
			"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
			schemas.Device{Browser: "Chrome", BrowserVersion: "126.0.0.0", OS: "Windows", Type: DeviceDesktop},
		},
		{
			"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
			schemas.Device{Browser: "Safari", BrowserVersion: "17.5", OS: "iOS", Type: DeviceMobile},
		},
		{
			"Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
			schemas.Device{Browser: "Safari", BrowserVersion: "17.5", OS: "iOS", Type: DeviceTablet},
		},
		{
			"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.71 Mobile Safari/537.36",
			schemas.Device{Browser: "Chrome", BrowserVersion: "126.0.6478.71", OS: "Android", Type: DeviceMobile},
		},
		{
			"Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
			schemas.Device{Browser: "Firefox", BrowserVersion: "127.0", OS: "Linux", Type: DeviceDesktop},
		},
		{
			"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.87",
			schemas.Device{Browser: "Edge", BrowserVersion: "126.0.2592.87", OS: "MacOS", Type: DeviceDesktop},
		},
		{"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", schemas.Device{Type: DeviceBot}},
		{"", schemas.Device{Type: DeviceOther}},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, d.Parse(tt.ua), tt.ua)
	}
	require.NotPanics(t, func() { d.Parse(strings.Repeat("Mozilla/5.0 (", 1000)) })
}

func TestLanguage(t *testing.T) {
	tests := []struct {
		event, header, want string
	}{
		{"de-AT", "en-US,en;q=0.9", "de-AT"},
		{"", "en-US,en;q=0.9", "en-US"},
		{"", "fr;q=0.5, de-CH;q=0.8, *;q=0.1", "de-CH"},
		{"", "*", ""},
		{"", "", ""},
		{"", "en;q=0, pt-BR", "pt-BR"},
		{"", "<script>, nl", "nl"},
		{"", "es;q=abc, it;q=0.3", "it"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, Language(tt.event, tt.header), "%q %q", tt.event, tt.header)
	}
}
