package ui

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"focal/internal/focal"
)

// alertRuleForm is the alert rule form as the user typed it.
type alertRuleForm struct {
	Name      string
	Org       string // organisation id; "" for any
	Sector    string
	Class     string // "class" or "class/type"; "" for any
	Feed      string
	Threshold string
	Window    string // a duration such as 1h
	Severity  string
	Enabled   bool
}

// alertRuleRow is a rule in the list.
type alertRuleRow struct {
	ID        int64
	Name      string
	OrgID     int64
	Org       string
	Sector    string
	Class     string
	Feed      string
	Threshold int
	Window    string
	Severity  focal.Severity
	Enabled   bool
}

// alertRulesPage is the data of the alert rules page: the list and the
// form that creates a rule or, at /alert-rules/{id}/edit, changes one.
type alertRulesPage struct {
	base
	formError
	Rules       []alertRuleRow
	MayCreate   bool
	MayUpdate   bool
	MayDelete   bool
	EditID      int64  // the rule the form changes; 0 creates one
	Action      string // where the form posts
	Form        alertRuleForm
	Orgs        []orgOption
	Sectors     []focal.Sector
	ClassGroups []classGroup
	Feeds       []string
	Severities  []focal.Severity
}

// alertRulesPage gathers the list and the form's choices.
func (h *handlers) alertRulesPage(r *http.Request, editID int64, f alertRuleForm) (alertRulesPage, error) {
	ctx := r.Context()
	res := focal.Resource{Kind: focal.KindFeed, Object: true}
	page := alertRulesPage{
		base: h.base(r, "Alert rules"), EditID: editID, Action: "/alert-rules", Form: f, Sectors: focal.Sectors,
		ClassGroups: classFilterGroups(f.Class), Severities: focal.Severities,
		MayCreate: may(r, focal.ActionCreate, focal.Resource{Kind: focal.KindFeed}), MayUpdate: may(r, focal.ActionUpdate, res),
		MayDelete: may(r, focal.ActionDelete, res),
	}
	if editID != 0 {
		page.Title = "Edit alert rule " + f.Name
		page.Action = "/alert-rules/" + strconv.FormatInt(editID, 10)
	}
	orgs, names, err := h.orgNames(ctx)
	if err != nil {
		return page, err
	}
	page.Orgs = orgs
	feeds, err := h.store.Feeds(ctx)
	if err != nil {
		return page, err
	}
	for _, fd := range feeds {
		page.Feeds = append(page.Feeds, fd.Name)
	}
	rules, err := h.store.AlertRules(ctx)
	if err != nil {
		return page, err
	}
	for _, ar := range rules {
		row := alertRuleRow{ID: ar.ID, Name: ar.Name, OrgID: ar.OrgID, Org: orgName(names, ar.OrgID), Sector: ar.Sector, Feed: ar.Feed,
			Threshold: ar.Threshold, Window: humanDuration(ar.Window), Severity: ar.Severity, Enabled: ar.Enabled}
		if ar.Class != "" {
			row.Class = classLabel(focal.Classification{Class: ar.Class, Type: ar.Type})
		}
		page.Rules = append(page.Rules, row)
	}
	return page, nil
}

// alertRules serves GET /alert-rules: every rule, and for analysts the
// form to add one.
func (h *handlers) alertRules(w http.ResponseWriter, r *http.Request) {
	page, err := h.alertRulesPage(r, 0, alertRuleForm{Threshold: "10", Window: "1h", Severity: string(focal.SeverityMedium), Enabled: true})
	if err != nil {
		h.error(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "alert_rules", page)
}

// alertRuleEdit serves GET /alert-rules/{id}/edit.
func (h *handlers) alertRuleEdit(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	ar, err := h.store.AlertRule(r.Context(), id)
	if err != nil {
		h.error(w, r, err)
		return
	}
	f := alertRuleForm{Name: ar.Name, Sector: ar.Sector, Feed: ar.Feed, Threshold: strconv.Itoa(ar.Threshold),
		Window: durationText(ar.Window), Severity: string(ar.Severity), Enabled: ar.Enabled}
	if ar.OrgID != 0 {
		f.Org = strconv.FormatInt(ar.OrgID, 10)
	}
	if ar.Class != "" {
		f.Class = ar.Class
		if ar.Type != "" {
			f.Class += "/" + ar.Type
		}
	}
	page, err := h.alertRulesPage(r, id, f)
	if err != nil {
		h.error(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "alert_rules", page)
}

// alertRuleCreate serves POST /alert-rules.
func (h *handlers) alertRuleCreate(w http.ResponseWriter, r *http.Request) {
	f, ar, err := h.parseAlertRuleForm(r)
	if err == nil {
		err = h.store.CreateAlertRule(r.Context(), ar)
	}
	if err != nil {
		h.alertRuleError(w, r, 0, f, err)
		return
	}
	redirect(w, r, withNotice("/alert-rules", "created"))
}

// alertRuleUpdate serves POST /alert-rules/{id}.
func (h *handlers) alertRuleUpdate(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	f, ar, err := h.parseAlertRuleForm(r)
	if err == nil {
		ar.ID = id
		err = h.store.UpdateAlertRule(r.Context(), ar)
	}
	if err != nil {
		h.alertRuleError(w, r, id, f, err)
		return
	}
	redirect(w, r, withNotice("/alert-rules", "saved"))
}

// alertRuleDelete serves POST /alert-rules/{id}/delete; incidents the
// rule opened stay.
func (h *handlers) alertRuleDelete(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err == nil {
		err = h.store.DeleteAlertRule(r.Context(), id)
	}
	if err != nil {
		h.error(w, r, err)
		return
	}
	redirect(w, r, withNotice("/alert-rules", "deleted"))
}

// alertRuleError shows the form again with the error next to its field,
// or the error page for errors that are not about the form.
func (h *handlers) alertRuleError(w http.ResponseWriter, r *http.Request, id int64, f alertRuleForm, err error) {
	var e *focal.Error
	if !errors.As(err, &e) || e.Code != focal.EINVALID {
		h.error(w, r, err)
		return
	}
	page, perr := h.alertRulesPage(r, id, f)
	if perr != nil {
		h.error(w, r, perr)
		return
	}
	field, label := e.Field, e.Field
	switch e.Field {
	case "name":
		label = "Name"
	case "org":
		label = "Organisation"
	case "sector":
		label = "Sector"
	case "class", "type", "classification.class", "classification.type":
		field, label = "class", "Classification"
	case "feed":
		label = "Feed"
	case "threshold":
		label = "Events"
	case "window":
		label = "Within"
	case "severity":
		label = "Severity of the incident"
	default:
		field = ""
	}
	page.Err = &fieldError{Field: field, Label: label, Message: e.Message}
	h.render(w, r, http.StatusBadRequest, "alert_rules", page)
}

// parseAlertRuleForm reads a posted alert rule form and checks what the
// domain cannot: that the organisation, sector and feed exist.
func (h *handlers) parseAlertRuleForm(r *http.Request) (alertRuleForm, *focal.AlertRule, error) {
	if err := parseForm(r); err != nil {
		return alertRuleForm{}, nil, err
	}
	ctx := r.Context()
	f := alertRuleForm{
		Name: formValue(r, "name"), Org: formValue(r, "org"), Sector: formValue(r, "sector"), Class: formValue(r, "class"),
		Feed: formValue(r, "feed"), Threshold: formValue(r, "threshold"), Window: formValue(r, "window"),
		Severity: formValue(r, "severity"), Enabled: r.PostForm.Get("enabled") != "",
	}
	ar := &focal.AlertRule{Name: f.Name, Sector: f.Sector, Feed: f.Feed, Enabled: f.Enabled}
	if f.Org != "" {
		id, err := strconv.ParseInt(f.Org, 10, 64)
		if err != nil || id <= 0 {
			return f, nil, focal.FieldErrorf("org", "choose an organisation from the list")
		}
		if _, err := h.store.Organisation(ctx, id); focal.ErrorCode(err) == focal.ENOTFOUND {
			return f, nil, focal.FieldErrorf("org", "choose an organisation from the list")
		} else if err != nil {
			return f, nil, err
		}
		ar.OrgID = id
	}
	if f.Sector != "" {
		if _, ok := focal.LookupSector(f.Sector); !ok {
			return f, nil, focal.FieldErrorf("sector", "choose a sector from the list")
		}
	}
	if f.Class != "" {
		class, typ, _ := strings.Cut(f.Class, "/")
		if _, _, ok := focal.LookupRSIT(class, typ); !ok {
			return f, nil, focal.FieldErrorf("class", "choose a classification from the list")
		}
		ar.Class, ar.Type = class, typ
	}
	if f.Feed != "" {
		if _, err := h.store.FeedByName(ctx, f.Feed); focal.ErrorCode(err) == focal.ENOTFOUND {
			return f, nil, focal.FieldErrorf("feed", "choose a feed from the list")
		} else if err != nil {
			return f, nil, err
		}
	}
	if f.Threshold != "" {
		n, err := strconv.Atoi(f.Threshold)
		if err != nil || n < 1 {
			return f, nil, focal.FieldErrorf("threshold", "want a whole number, 1 or more, got %q", f.Threshold)
		}
		ar.Threshold = n
	}
	var err error
	if ar.Window, err = parseDurationText("window", f.Window); err != nil {
		return f, nil, err
	}
	if f.Severity != "" {
		if ar.Severity, err = focal.ParseSeverity(f.Severity); err != nil {
			return f, nil, focal.FieldErrorf("severity", "choose a severity from the list")
		}
	}
	return f, ar, nil
}
