package pushmsg

// Limits of a message, in bytes of the template text as written.
const (
	MaxTitle       = 256
	MaxBody        = 1024
	MaxURL         = 2048
	MaxActions     = 2
	MaxActionID    = 64
	MaxActionTitle = 128
	MaxUTMField    = 256
	// MaxVarValue is the longest value a template variable renders: longer
	// values are cut (on a character boundary) so the size check holds.
	MaxVarValue = 256
	// MaxPayload is the largest payload one 4096-byte aes128gcm record
	// carries (RFC 8291: 4096 minus 103 bytes of header, key, tag and padding delimiter).
	MaxPayload = 4096 - 103
)

// Message is a notification as a marketer writes it. Title, Body, URL and
// the action titles and URLs may hold templates; Icon, Image, Badge and
// UTM are literal.
type Message struct {
	Title              string   `json:"title"`
	Body               string   `json:"body,omitempty"`
	Icon               string   `json:"icon,omitempty"`
	Image              string   `json:"image,omitempty"`
	Badge              string   `json:"badge,omitempty"`
	URL                string   `json:"url,omitempty"`
	UTM                *UTM     `json:"utm,omitempty"`
	Actions            []Action `json:"actions,omitempty"`
	RequireInteraction bool     `json:"require_interaction,omitempty"`
	TTLSeconds         int      `json:"ttl_seconds,omitempty"` // how long the push service keeps it for an offline browser; 0: deliver now or never
	Urgency            string   `json:"urgency,omitempty"`     // schemas.Urgency*; "" is normal
	Topic              string   `json:"topic,omitempty"`       // replaces a pending push with the same topic
}

// UTM is the campaign tagging added to the URL as utm_* query parameters.
type UTM struct {
	Source   string `json:"source,omitempty"`
	Medium   string `json:"medium,omitempty"`
	Campaign string `json:"campaign,omitempty"`
	Content  string `json:"content,omitempty"`
	Term     string `json:"term,omitempty"`
}

// Action is a notification button (at most MaxActions).
type Action struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	URL   string `json:"url,omitempty"`
}

// Problem is one thing wrong with a message: where ("title",
// "actions[1].url") and what.
type Problem struct {
	Path    string `json:"path"`
	Problem string `json:"problem"`
}

func (p Problem) String() string { return p.Path + ": " + p.Problem }

// Vars are the values templates read: subscriber attributes (country, city,
// language, browser, attr.<name>, …) and the trigger event's properties
// (plus "name" and "url").
type Vars struct {
	Subscriber map[string]string
	Event      map[string]string
}

// IDs identify the push in its payload, so the service worker's beacons
// carry them back.
type IDs struct {
	PushID       string
	CampaignID   string
	AutomationID string
	SubscriberID string
}

// payload is the JSON the service worker reads.
type payload struct {
	Title              string          `json:"title"`
	Body               string          `json:"body,omitempty"`
	Icon               string          `json:"icon,omitempty"`
	Image              string          `json:"image,omitempty"`
	Badge              string          `json:"badge,omitempty"`
	RequireInteraction bool            `json:"require_interaction,omitempty"`
	Actions            []payloadAction `json:"actions,omitempty"`
	URL                string          `json:"url,omitempty"`
	UTM                *UTM            `json:"utm,omitempty"`
	PushID             string          `json:"push_id"`
	CampaignID         string          `json:"campaign_id,omitempty"`
	AutomationID       string          `json:"automation_id,omitempty"`
	SubscriberID       string          `json:"subscriber_id,omitempty"`
}

type payloadAction struct {
	Action string `json:"action"`
	Title  string `json:"title"`
	URL    string `json:"url,omitempty"`
}
