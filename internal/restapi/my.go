package restapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"focal/internal/focal"
	"focal/internal/live"
)

// maxMyWindow bounds the time window of GET /api/v1/my/events.
const maxMyWindow = 93 * 24 * time.Hour

// myOrg returns the organisation of a constituent principal, or an error:
// the /api/v1/my/ routes answer for one organisation's token only.
func myOrg(p focal.Principal) (int64, error) {
	if p.Role != focal.RoleConstituent || p.OrgID == 0 {
		return 0, focal.Errorf(focal.EFORBIDDEN, "the /api/v1/my/ routes are for an organisation's own account or token")
	}
	return p.OrgID, nil
}

// myEvents serves GET /api/v1/my/events: the caller's organisation's
// events in a required window (since, until; at most 93 days), newest
// first, with a cursor; as JSON, or CSV/NDJSON streamed. Any org filter
// is ignored: the store scopes every query to the token's organisation.
func (a *API) myEvents(w http.ResponseWriter, r *http.Request) {
	org, err := myOrg(focal.PrincipalFromContext(r.Context()))
	if err != nil {
		a.Error(w, r, err)
		return
	}
	q := r.URL.Query()
	for _, name := range []string{"since", "until"} {
		if q.Get(name) == "" {
			a.Error(w, r, focal.FieldErrorf(name, "required: give the time window (since, until) of the events you want"))
			return
		}
	}
	f, err := parseEventFilter(q)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	if f.Until.Sub(f.Since) > maxMyWindow {
		a.Error(w, r, focal.FieldErrorf("until", "the window is at most %d days", int(maxMyWindow.Hours()/24)))
		return
	}
	f.OrgID = org
	format, err := exportFormat(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	if format != "" {
		a.exportEvents(w, r, f, format)
		return
	}
	if f.Limit == 0 {
		f.Limit = defaultEventLimit
	}
	events, next, err := a.Store.Events(r.Context(), f)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	p := focal.PrincipalFromContext(r.Context())
	out := struct {
		Events []eventBody `json:"events"`
		Next   string      `json:"next"`
	}{Events: make([]eventBody, 0, len(events)), Next: next}
	for _, e := range events {
		out.Events = append(out.Events, eventToBody(p, e))
	}
	a.writeJSON(w, http.StatusOK, out)
}

// streamHeartbeat is how often an idle stream sends a comment, so proxies
// and clients know it is alive.
const streamHeartbeat = 15 * time.Second

// myStream serves GET /api/v1/my/stream: Server-Sent Events, one "event"
// per new event of the caller's organisation as it is stored, with id
// SEQ.N. A client that reconnects with Last-Event-ID (header, or the
// last_event_id parameter) resumes after it. duration (e.g. 10m) ends the
// stream after that long; by default it lasts until the client leaves.
func (a *API) myStream(w http.ResponseWriter, r *http.Request) {
	org, err := myOrg(focal.PrincipalFromContext(r.Context()))
	if err != nil {
		a.Error(w, r, err)
		return
	}
	if a.Live == nil {
		a.Error(w, r, focal.Errorf(focal.EUNAVAILABLE, "the live stream is not running"))
		return
	}
	var from live.Position
	last := r.Header.Get("Last-Event-ID")
	if last == "" {
		last = r.URL.Query().Get("last_event_id")
	}
	if last != "" {
		if from, err = live.ParsePosition(last); err != nil {
			a.Error(w, r, focal.FieldErrorf("Last-Event-ID", "%v", err))
			return
		}
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	if d := r.URL.Query().Get("duration"); d != "" {
		dur, err := time.ParseDuration(d)
		if err != nil || dur <= 0 {
			a.Error(w, r, focal.FieldErrorf("duration", "want a positive duration such as 30s or 1h, got %q", d))
			return
		}
		ctx, cancel = context.WithTimeout(r.Context(), dur)
		defer cancel()
	}
	rc := http.NewResponseController(w)
	if err := rc.SetWriteDeadline(time.Time{}); err != nil {
		a.Logger.Debug("stream: cannot lift the write deadline", "err", err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, ": focal live events of organisation %d\nretry: 2000\n\n", org)
	if err := rc.Flush(); err != nil {
		return
	}
	writes := make(chan []byte, 64)
	go func() {
		defer cancel()
		err := a.Live.Follow(ctx, org, from, func(pos live.Position, ids []int64) error {
			events, err := a.Store.EventsByID(r.Context(), ids)
			if err != nil {
				return err
			}
			p := focal.PrincipalFromContext(r.Context())
			byID := map[int64]int{}
			for i, id := range ids {
				byID[id] = i
			}
			for _, e := range events {
				body, err := json.Marshal(eventToBody(p, e))
				if err != nil {
					return err
				}
				msg := fmt.Appendf(nil, "id: %d.%d\nevent: event\ndata: %s\n\n", pos.Seq, pos.N+byID[e.ID], body)
				select {
				case writes <- msg:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return nil
		})
		if err != nil && ctx.Err() == nil {
			a.Logger.Warn("live stream ended", "org", org, "err", err)
		}
	}()
	beat := time.NewTicker(streamHeartbeat)
	defer beat.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case msg := <-writes:
			if _, err := w.Write(msg); err != nil {
				return
			}
			// Send what is queued in one flush.
			for more := true; more; {
				select {
				case m := <-writes:
					if _, err := w.Write(m); err != nil {
						return
					}
				default:
					more = false
				}
			}
			if rc.Flush() != nil {
				return
			}
		case <-beat.C:
			if _, err := fmt.Fprintf(w, ": %s\n\n", strconv.FormatInt(time.Now().Unix(), 10)); err != nil || rc.Flush() != nil {
				return
			}
		}
	}
}
