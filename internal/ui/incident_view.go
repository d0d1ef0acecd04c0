package ui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"focal/internal/focal"
	"focal/internal/observable"
	"focal/internal/store"
)

// This file holds what the incident pages share: labels in the user's
// terms, SLA states, defanging, option lists and the error placement.

// statusLabel names a status as people say it: "in progress".
func statusLabel(s focal.Status) string { return strings.ReplaceAll(string(s), "_", " ") }

// tlpClass is the CSS class of a TLP badge: tlp-red, tlp-amber-strict…
func tlpClass(t focal.TLP) string {
	if t == "" {
		return "tlp-none"
	}
	return "tlp-" + strings.ToLower(strings.ReplaceAll(string(t), "+", "-"))
}

// classLabel names a classification with the taxonomy's words, e.g.
// "Fraud: Phishing"; an unknown one shows its machine value.
func classLabel(c focal.Classification) string {
	class, typ, ok := focal.LookupRSIT(c.Class, c.Type)
	switch {
	case !ok:
		return c.String()
	case typ.Name == "":
		return class.Name
	}
	return class.Name + ": " + typ.Name
}

// classLabels joins the labels of cs, or says "unclassified".
func classLabels(cs []focal.Classification) string {
	if len(cs) == 0 {
		return "unclassified"
	}
	out := make([]string, len(cs))
	for n, c := range cs {
		out[n] = classLabel(c)
	}
	return strings.Join(out, "; ")
}

// humanDuration renders d in at most two units: "45s", "12m", "3h 5m",
// "2d 4h". A negative d is rendered as its magnitude.
func humanDuration(d time.Duration) string {
	d = d.Abs()
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d.Seconds())) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d.Minutes())) + "m"
	case d < 24*time.Hour:
		h, m := int(d.Hours()), int(d.Minutes())%60
		if m == 0 {
			return strconv.Itoa(h) + "h"
		}
		return fmt.Sprintf("%dh %dm", h, m)
	}
	days, h := int(d.Hours())/24, int(d.Hours())%24
	if h == 0 {
		return strconv.Itoa(days) + "d"
	}
	return fmt.Sprintf("%dd %dh", days, h)
}

// slaView is an incident's SLA state in a few words, for lists.
type slaView struct {
	Label   string // e.g. "triage due in 3h 10m", "resolve overdue by 2h", "met"
	Class   string // sla-ok, sla-overdue, sla-met, sla-missed, sla-none
	Overdue bool   // open and past a due time
}

// slaSummary sums up clocks (from focal.SLAClocks) for incident i at now:
// for an open incident the first overdue clock, else the next one due;
// for a finished one whether every measured target was met.
func slaSummary(i *focal.Incident, clocks []focal.SLAClock, now time.Time) slaView {
	if i.Status.Open() {
		for _, c := range clocks {
			if !c.Done && c.Target > 0 && c.Overdue {
				return slaView{Label: c.Name + " overdue by " + humanDuration(now.Sub(c.Due)), Class: "sla-overdue", Overdue: true}
			}
		}
		for _, c := range clocks {
			if !c.Done && c.Target > 0 {
				return slaView{Label: c.Name + " due in " + humanDuration(c.Due.Sub(now)), Class: "sla-ok"}
			}
		}
		return slaView{Label: "no target", Class: "sla-none"}
	}
	measured := false
	for _, c := range clocks {
		if c.Target > 0 && c.Done {
			measured = true
			if !c.Met {
				return slaView{Label: "missed", Class: "sla-missed"}
			}
		}
	}
	if measured {
		return slaView{Label: "met", Class: "sla-met"}
	}
	return slaView{Label: "not measured", Class: "sla-none"}
}

// slaClock measures incidents against their SLA targets as of one moment.
type slaClock struct {
	targets []focal.SLATarget
	cal     focal.Calendar
	now     time.Time
}

// slaClock loads the SLA targets for measuring incidents now.
func (h *handlers) slaClock(ctx context.Context) (slaClock, error) {
	targets, err := h.store.SLATargets(ctx)
	if err != nil {
		return slaClock{}, err
	}
	return slaClock{targets: targets, cal: h.calendar, now: time.Now().UTC()}, nil
}

// clocks returns incident i's SLA clocks and the target they measure.
func (s slaClock) clocks(i *focal.Incident) ([]focal.SLAClock, focal.SLATarget) {
	t := focal.PickSLATarget(s.targets, i.OrgID, i.Severity)
	return focal.SLAClocks(i, t, s.cal, s.now), t
}

// summary returns incident i's SLA state.
func (s slaClock) summary(i *focal.Incident) slaView {
	c, _ := s.clocks(i)
	return slaSummary(i, c, s.now)
}

// defangable reports whether observables of kind k could become live
// links or addresses when shown as they are.
func defangable(k observable.Kind) bool {
	switch k {
	case observable.KindURL, observable.KindDomain, observable.KindEmail, observable.KindIPv4, observable.KindIPv6, observable.KindCIDR:
		return true
	}
	return false
}

// defangObservable renders an observable's value so that no viewer turns
// it into a live link: hxxp://evil[.]example.
func defangObservable(o focal.Observable) string {
	return observable.Defang(observable.Observable{Kind: observable.Kind(o.Kind), Value: o.Value})
}

// defangText returns text with every URL, domain, e-mail and IP address in
// it defanged, the rest as it was.
func defangText(text string) string {
	found := observable.Extract(text).Observables
	var b strings.Builder
	last := 0
	for _, o := range found {
		// A URL's host is reported again inside it: skip overlaps.
		if !defangable(o.Kind) || o.Offset < last {
			continue
		}
		b.WriteString(text[last:o.Offset])
		b.WriteString(observable.Defang(o))
		last = o.Offset + len(o.Raw)
	}
	b.WriteString(text[last:])
	return b.String()
}

// classGroup is one RSIT class in a classification select.
type classGroup struct {
	Name    string
	Options []classOption
}

// classOption is one class/type of a classification select.
type classOption struct {
	Value    string // class/type
	Label    string
	Selected bool
}

// rsitOptions returns the taxonomy as select groups, marking selected
// ("class/type").
func rsitOptions(selected string) []classGroup {
	out := make([]classGroup, 0, len(focal.RSIT))
	for _, c := range focal.RSIT {
		g := classGroup{Name: c.Name}
		for _, t := range c.Types {
			v := c.Value + "/" + t.Value
			g.Options = append(g.Options, classOption{Value: v, Label: t.Name + " (" + t.Desc + ")", Selected: v == selected})
		}
		out = append(out, g)
	}
	return out
}

// parseClassification reads a "class/type" select value.
func parseClassification(field, v string) (focal.Classification, error) {
	class, typ, _ := strings.Cut(v, "/")
	c := focal.Classification{Class: class, Type: typ}
	if err := c.Validate(); err != nil || typ == "" {
		return c, focal.FieldErrorf(field, "choose a classification from the list")
	}
	return c, nil
}

// primaryClass returns the first classification as "class/type", or "".
func primaryClass(cs []focal.Classification) string {
	if len(cs) == 0 {
		return ""
	}
	return cs[0].String()
}

// orgNames returns the organisations the caller may see as select
// options, and their names by id.
func (h *handlers) orgNames(ctx context.Context) ([]orgOption, map[int64]string, error) {
	orgs, err := h.store.OrganisationNames(ctx, maxOrgOptions)
	if err != nil {
		return nil, nil, err
	}
	opts := make([]orgOption, 0, len(orgs))
	names := make(map[int64]string, len(orgs))
	for _, o := range orgs {
		opts = append(opts, orgOption{ID: o.ID, Name: o.Name})
		names[o.ID] = o.Name
	}
	return opts, names, nil
}

// orgName names organisation id from names, or says it is unknown.
func orgName(names map[int64]string, id int64) string {
	if id == 0 {
		return ""
	}
	if n, ok := names[id]; ok {
		return n
	}
	return "organisation " + strconv.FormatInt(id, 10)
}

// scanIncidents calls fn for the incidents matching f, newest first, a
// batch of f.Limit at a time, until fn returns false, they run out, or at
// least limit have been read. It returns the id of the last incident
// read and whether more may follow it.
func (h *handlers) scanIncidents(ctx context.Context, f store.IncidentFilter, limit int, fn func(*focal.Incident) bool) (last int64, more bool, err error) {
	read := 0
	for {
		list, err := h.store.Incidents(ctx, f)
		if err != nil {
			return 0, false, err
		}
		for _, i := range list {
			read++
			last = i.ID
			if !fn(i) {
				return last, true, nil
			}
		}
		if len(list) < f.Limit {
			return last, false, nil
		}
		if read >= limit {
			return last, true, nil
		}
		f.BeforeID = last
	}
}

// formError is embedded in the data of pages with forms: the validation
// error to show, next to the field it is about.
type formError struct {
	Err *fieldError
}

// ErrorFor returns the error message about field, or "".
func (f formError) ErrorFor(field string) string {
	if f.Err != nil && f.Err.Field == field {
		return f.Err.Message
	}
	return ""
}

// incidentFieldLabel names an incident form's field as the user knows it.
func incidentFieldLabel(field string) (string, bool) {
	switch field {
	case "status":
		return "New status", true
	case "waiting_on":
		return "Waiting on", true
	case "classification":
		return "Classification", true
	case "severity":
		return "Severity", true
	case "tlp":
		return "TLP", true
	case "pap":
		return "PAP", true
	case "assignee":
		return "Assignee", true
	case "org":
		return "Organisation", true
	case "body":
		return "Text", true
	case "note_tlp":
		return "TLP of the entry", true
	case "kind":
		return "Kind", true
	case "title":
		return "Title", true
	case "description":
		return "Description", true
	case "channel":
		return "Channel", true
	case "reporter.name":
		return "Reporter's name", true
	case "reporter.email":
		return "Reporter's e-mail", true
	case "reporter.phone":
		return "Reporter's phone", true
	case "reporter.organisation":
		return "Reporter's organisation", true
	}
	return "", false
}

// incidentFieldError places a validation error from a form or the store
// next to its field; ok is false for other errors.
func incidentFieldError(err error) (*fieldError, bool) {
	var e *focal.Error
	if !errors.As(err, &e) || e.Code != focal.EINVALID {
		return nil, false
	}
	field := e.Field
	if strings.HasPrefix(field, "classification") {
		field = "classification"
	}
	label, ok := incidentFieldLabel(field)
	if !ok {
		return &fieldError{Label: e.Field, Message: e.Message}, true
	}
	return &fieldError{Field: field, Label: label, Message: e.Message}, true
}

// formValue returns the trimmed value of a posted field.
func formValue(r *http.Request, name string) string {
	return strings.TrimSpace(r.PostForm.Get(name))
}
