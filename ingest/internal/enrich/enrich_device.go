package enrich

import (
	"strconv"
	"strings"

	"github.com/medama-io/go-useragent"
	"github.com/medama-io/go-useragent/agents"

	"github.com/pushpipe/pushpipe/ingest/internal/beacon"
	"github.com/pushpipe/pushpipe/schemas"
)

// Device types of schemas.Device.Type.
const (
	DeviceDesktop = "desktop"
	DeviceMobile  = "mobile"
	DeviceTablet  = "tablet"
	DeviceBot     = "bot"
	DeviceOther   = "other"
)

// Devices parses user agents; safe for concurrent use.
type Devices struct{ p *useragent.Parser }

// NewDevices builds the parser (its trie is built once per process).
func NewDevices() *Devices { return &Devices{p: useragent.NewParser()} }

// maxUALen bounds the user agent parsed; real ones are a few hundred bytes.
const maxUALen = 1024

// Parse derives browser, browser version, OS and device type from a user agent.
func (d *Devices) Parse(ua string) schemas.Device {
	if ua == "" {
		return schemas.Device{Type: DeviceOther}
	}
	if len(ua) > maxUALen {
		ua = ua[:maxUALen]
	}
	a := d.p.Parse(ua)
	return schemas.Device{
		Browser:        string(a.Browser()),
		BrowserVersion: a.BrowserVersion(),
		OS:             string(a.OS()),
		Type:           deviceType(a.Device()),
	}
}

func deviceType(d agents.Device) string {
	switch d {
	case agents.DeviceDesktop:
		return DeviceDesktop
	case agents.DeviceMobile:
		return DeviceMobile
	case agents.DeviceTablet:
		return DeviceTablet
	case agents.DeviceBot:
		return DeviceBot
	default:
		return DeviceOther
	}
}

// Language returns the event's own language when it sent one, else the
// preferred language of an Accept-Language header ("" when none is usable).
func Language(eventLang, acceptLanguage string) string {
	if eventLang != "" {
		return eventLang
	}
	best, bestQ := "", -1.0
	for part := range strings.SplitSeq(acceptLanguage, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		tag = strings.TrimSpace(tag)
		if !isLanguageTag(tag) {
			continue
		}
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			q = f
		}
		if q > bestQ && q > 0 {
			best, bestQ = tag, q
		}
	}
	return best
}

// isLanguageTag accepts BCP 47-shaped tags (letters, digits, hyphens), not "*".
func isLanguageTag(s string) bool {
	if s == "" || len(s) > beacon.MaxLanguageLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-':
		default:
			return false
		}
	}
	return true
}
