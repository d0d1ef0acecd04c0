package restapi

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"time"

	"focal/internal/focal"
	"focal/internal/iodef"
	"focal/internal/store"
)

// incidentBody is an incident as the API shows it. Reporter details are
// personal data: only staff see them.
type incidentBody struct {
	ID             int64                  `json:"id"`
	Ref            string                 `json:"ref"`
	Title          string                 `json:"title"`
	Description    string                 `json:"description"`
	Classification []focal.Classification `json:"classification"`
	Severity       focal.Severity         `json:"severity"`
	TLP            focal.TLP              `json:"tlp"`
	PAP            focal.PAP              `json:"pap"`
	Status         focal.Status           `json:"status"`
	WaitingOn      string                 `json:"waiting_on,omitempty"`
	AssigneeID     int64                  `json:"assignee_id,omitempty"`
	OrgID          int64                  `json:"org_id,omitempty"`
	Sector         string                 `json:"sector,omitempty"`
	CriticalInfra  bool                   `json:"critical_infra"`
	Channel        string                 `json:"channel,omitempty"`
	Reporter       *focal.Reporter        `json:"reporter,omitempty"`
	MergedInto     int64                  `json:"merged_into,omitempty"`
	Milestones     focal.Milestones       `json:"milestones"`
	WaitingSeconds int64                  `json:"waiting_seconds"`
	CreatedAt      time.Time              `json:"created_at"`
	UpdatedAt      time.Time              `json:"updated_at"`
	Observables    []focal.Observable     `json:"observables,omitempty"`
	Suggested      []suggestion           `json:"suggested_organisations,omitempty"`
	NextStatuses   []focal.Status         `json:"next_statuses"`
}

// suggestion is an organisation the constituency lookup finds behind an
// incident's observables.
type suggestion struct {
	OrgID   int64    `json:"org_id"`
	Name    string   `json:"name"`
	Matched []string `json:"matched"`
}

func incidentToBody(p focal.Principal, i *focal.Incident) incidentBody {
	b := incidentBody{ID: i.ID, Ref: i.Ref, Title: i.Title, Description: i.Description, Classification: i.Classifications,
		Severity: i.Severity, TLP: i.TLP, PAP: i.PAP, Status: i.Status, WaitingOn: i.WaitingOn, AssigneeID: i.AssigneeID,
		OrgID: i.OrgID, Sector: i.Sector, CriticalInfra: i.CriticalInfra, Channel: i.Channel, MergedInto: i.MergedInto,
		Milestones: i.Milestones, WaitingSeconds: int64(i.WaitingTotal.Seconds()), CreatedAt: i.CreatedAt, UpdatedAt: i.UpdatedAt,
		NextStatuses: focal.NextStatuses(i.Status)}
	if b.Classification == nil {
		b.Classification = []focal.Classification{}
	}
	if p.Role.Staff() && i.Reporter != (focal.Reporter{}) {
		r := i.Reporter
		b.Reporter = &r
	}
	if b.NextStatuses == nil {
		b.NextStatuses = []focal.Status{}
	}
	return b
}

// incidentInput is what POST /api/v1/incidents accepts.
type incidentInput struct {
	Title          string                 `json:"title"`
	Description    string                 `json:"description"`
	Classification []focal.Classification `json:"classification"`
	Severity       string                 `json:"severity"`
	TLP            string                 `json:"tlp"`
	PAP            string                 `json:"pap"`
	OrgID          int64                  `json:"org_id"`
	Reporter       focal.Reporter         `json:"reporter"`
	Observables    []focal.Observable     `json:"observables"`
}

func (in incidentInput) toIncident() (*focal.Incident, error) {
	i := &focal.Incident{Title: in.Title, Description: in.Description, Classifications: in.Classification, OrgID: in.OrgID, Reporter: in.Reporter, Channel: "api"}
	var err error
	if in.TLP != "" {
		if i.TLP, err = focal.ParseTLP(in.TLP); err != nil {
			return nil, err
		}
	}
	if in.PAP != "" {
		if i.PAP, err = focal.ParsePAP(in.PAP); err != nil {
			return nil, err
		}
	}
	if in.Severity != "" {
		if i.Severity, err = focal.ParseSeverity(in.Severity); err != nil {
			return nil, err
		}
	}
	return i, nil
}

func (a *API) createIncident(w http.ResponseWriter, r *http.Request) {
	var in incidentInput
	if err := decode(r, &in); err != nil {
		a.Error(w, r, err)
		return
	}
	i, err := in.toIncident()
	if err != nil {
		a.Error(w, r, err)
		return
	}
	obs := in.Observables
	for n := range obs {
		obs[n].Source = "manual"
		if obs[n].Kind == "" || obs[n].Value == "" {
			a.Error(w, r, focal.FieldErrorf("observables["+strconv.Itoa(n)+"]", "kind and value are required"))
			return
		}
	}
	if a.Extract != nil {
		obs = append(obs, a.Extract(i.Title+"\n"+i.Description)...)
	}
	if err := a.Store.CreateIncident(r.Context(), i, obs); err != nil {
		a.Error(w, r, err)
		return
	}
	// The creator gets back what it sent, as stored: no second read (and
	// no view to audit) on the intake path.
	b := incidentToBody(focal.PrincipalFromContext(r.Context()), i)
	b.Observables = obs
	w.Header().Set("Location", "/api/v1/incidents/"+strconv.FormatInt(i.ID, 10))
	a.writeJSON(w, http.StatusCreated, b)
}

func (a *API) listIncidents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := queryInt(r, "limit", 50, 500)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	f := store.IncidentFilter{Class: q.Get("class"), Query: q.Get("q"), Limit: limit}
	for _, s := range q["status"] {
		for _, part := range strings.Split(s, ",") {
			st, err := focal.ParseStatus(part)
			if err != nil {
				a.Error(w, r, err)
				return
			}
			f.Status = append(f.Status, st)
		}
	}
	if v := q.Get("tlp"); v != "" {
		if f.TLP, err = focal.ParseTLP(v); err != nil {
			a.Error(w, r, err)
			return
		}
	}
	for name, dst := range map[string]*int64{"org": &f.OrgID, "assignee": &f.AssigneeID, "before": &f.BeforeID} {
		if v := q.Get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				a.Error(w, r, focal.FieldErrorf(name, "want a positive id, got %q", v))
				return
			}
			*dst = n
		}
	}
	list, err := a.Store.Incidents(r.Context(), f)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	p := focal.PrincipalFromContext(r.Context())
	out := struct {
		Items []incidentBody `json:"items"`
		Next  string         `json:"next,omitempty"`
	}{Items: []incidentBody{}}
	for _, i := range list {
		out.Items = append(out.Items, incidentToBody(p, i))
	}
	if len(list) == limit && limit > 0 {
		nq := r.URL.Query()
		nq.Set("before", strconv.FormatInt(list[len(list)-1].ID, 10))
		out.Next = "/api/v1/incidents?" + nq.Encode()
	}
	a.writeJSON(w, http.StatusOK, out)
}

func (a *API) getIncident(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	i, err := a.Store.Incident(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	p := focal.PrincipalFromContext(r.Context())
	b := incidentToBody(p, i)
	if b.Observables, err = a.Store.Observables(r.Context(), id); err != nil {
		a.Error(w, r, err)
		return
	}
	if p.Role.Staff() && a.Lookup != nil {
		for _, m := range a.Lookup().MatchObservables(b.Observables) {
			o, err := a.Store.Organisation(r.Context(), m.OrgID)
			if focal.ErrorCode(err) == focal.ENOTFOUND {
				continue // deleted since the table was built
			}
			if err != nil {
				a.Error(w, r, err)
				return
			}
			b.Suggested = append(b.Suggested, suggestion{OrgID: o.ID, Name: o.Name, Matched: m.Matched})
		}
	}
	a.writeJSON(w, http.StatusOK, b)
}

func (a *API) updateIncident(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	var in struct {
		Status         *string                `json:"status"`
		WaitingOn      string                 `json:"waiting_on"`
		Classification []focal.Classification `json:"classification"`
		Severity       *string                `json:"severity"`
		TLP            *string                `json:"tlp"`
		PAP            *string                `json:"pap"`
		AssigneeID     *int64                 `json:"assignee_id"`
		OrgID          *int64                 `json:"org_id"`
		Note           string                 `json:"note"`
	}
	if err := decode(r, &in); err != nil {
		a.Error(w, r, err)
		return
	}
	ch := store.IncidentChange{WaitingOn: in.WaitingOn, Classifications: in.Classification, AssigneeID: in.AssigneeID, OrgID: in.OrgID, Note: in.Note}
	if in.Status != nil {
		st, err := focal.ParseStatus(*in.Status)
		if err != nil {
			a.Error(w, r, err)
			return
		}
		ch.Status = &st
	}
	if in.Severity != nil {
		sev, err := focal.ParseSeverity(*in.Severity)
		if err != nil {
			a.Error(w, r, err)
			return
		}
		ch.Severity = &sev
	}
	if in.TLP != nil {
		t, err := focal.ParseTLP(*in.TLP)
		if err != nil {
			a.Error(w, r, err)
			return
		}
		ch.TLP = &t
	}
	if in.PAP != nil {
		p, err := focal.ParsePAP(*in.PAP)
		if err != nil {
			a.Error(w, r, err)
			return
		}
		ch.PAP = &p
	}
	i, err := a.Store.UpdateIncident(r.Context(), id, ch)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusOK, incidentToBody(focal.PrincipalFromContext(r.Context()), i))
}

type journalBody struct {
	ID     int64     `json:"id"`
	At     time.Time `json:"at"`
	Author string    `json:"author"`
	Kind   string    `json:"kind"`
	TLP    focal.TLP `json:"tlp"`
	Body   string    `json:"body"`
}

func (a *API) getJournal(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	entries, err := a.Store.Journal(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	out := []journalBody{}
	for _, e := range entries {
		out = append(out, journalBody{ID: e.ID, At: e.At, Author: e.Author, Kind: e.Kind, TLP: e.TLP, Body: e.Body})
	}
	a.writeJSON(w, http.StatusOK, map[string]any{"items": out})
}

func (a *API) addJournal(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	var in struct {
		Kind string `json:"kind"`
		TLP  string `json:"tlp"`
		Body string `json:"body"`
	}
	if err := decode(r, &in); err != nil {
		a.Error(w, r, err)
		return
	}
	if in.Kind != "" && in.Kind != "note" && in.Kind != "email_in" && in.Kind != "email_out" {
		a.Error(w, r, focal.FieldErrorf("kind", "want note, email_in or email_out"))
		return
	}
	var tlp focal.TLP
	if in.TLP != "" {
		if tlp, err = focal.ParseTLP(in.TLP); err != nil {
			a.Error(w, r, err)
			return
		}
	}
	if err := a.Store.AddJournal(r.Context(), id, in.Kind, tlp, in.Body); err != nil {
		a.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// exportIODEF answers the incident as an IODEF v2 (RFC 7970) document, with
// the TLP mapped to IODEF restrictions. Only staff get the reporter's
// personal data in it.
func (a *API) exportIODEF(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	ctx := r.Context()
	i, err := a.Store.Incident(ctx, id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	obs, err := a.Store.Observables(ctx, id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	journal, err := a.Store.Journal(ctx, id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	var buf bytes.Buffer
	p := focal.PrincipalFromContext(ctx)
	if err := iodef.Encode(&buf, a.Team, i, obs, journal, iodef.Options{IncludePersonal: p.Role.Staff()}); err != nil {
		a.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+i.Ref+`.iodef.xml"`)
	w.Header().Set("Cache-Control", "no-store")
	if _, err := buf.WriteTo(w); err != nil {
		a.Logger.Debug("write iodef", "err", err)
	}
}
