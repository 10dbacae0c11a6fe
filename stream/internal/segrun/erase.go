package segrun

import (
	"strings"

	"github.com/pushpipe/pushpipe/schemas"
)

// erase drops everything the owner holds about one subscriber when it reads
// a schemas.EventSubscriberErased: the incremental state, the membership it
// emitted, the pending timer (left in the heap, it is stale once the state
// is gone) and transitions queued from the restore's tail scan. No
// segment_exited is produced: it would store the subscriber again. It
// reports whether e was such an event.
func (o *owner) erase(e *schemas.Event) bool {
	if e.Type != schemas.EventSubscriberErased {
		return false
	}
	if site := o.sites[e.SiteID]; site != nil {
		delete(site.subs, e.SubscriberID)
	}
	prefix, suffix := e.SiteID+"\x00", "\x00"+e.SubscriberID
	for k := range o.pending {
		if strings.HasPrefix(k, prefix) && strings.HasSuffix(k, suffix) {
			delete(o.pending, k)
		}
	}
	return true
}

// replayErase is erase for a rebuild's replay of the partition: an erasure
// read again drops the state rebuilt so far for the subscriber of a rebuilt
// site, so their earlier events in the replay do not bring them back. It
// reports whether e was an erasure.
func (o *owner) replayErase(rebuilt map[string]*siteState, e *schemas.Event) bool {
	if e.Type != schemas.EventSubscriberErased {
		return false
	}
	if _, ok := rebuilt[e.SiteID]; ok {
		delete(o.sites[e.SiteID].subs, e.SubscriberID)
	}
	return true
}
