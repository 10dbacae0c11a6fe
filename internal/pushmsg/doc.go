// Package pushmsg is the notification a campaign or automation sends: its
// fields, their validation (including the check that the worst-case rendered
// payload still fits one encrypted Web Push record), and its rendering into
// the payload JSON the service worker shows (ingest/sdk/README.md, "Push
// payload"), with safe personalisation from subscriber attributes and
// trigger-event properties.
//
// Templates appear in the title, the body, the URL and the action titles and
// URLs: {{ subscriber.first_name | default: "there" }}, {{ event.cart_id }}.
// A missing value renders the default, else nothing; the output never
// contains "{{". The package does no I/O.
package pushmsg
