package ui

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"focal/internal/focal"
)

// incidentForm is the new-incident form as typed.
type incidentForm struct {
	Title          string
	Description    string
	Classification string // class/type, or "" for unclassified
	Severity       string
	TLP            string
	PAP            string
	Org            string // organisation id, "0" for unknown
	Channel        string
	ReporterName   string
	ReporterEmail  string
	ReporterPhone  string
	ReporterOrg    string
}

// incidentFormPage is the data of the new-incident form.
type incidentFormPage struct {
	base
	formError
	Form        incidentForm
	ClassGroups []classGroup
	Severities  []focal.Severity
	TLPs        []focal.TLP
	PAPs        []focal.PAP
	Channels    []string
	Orgs        []orgOption // nil for a constituent: it reports for its own
}

// newIncidentFormPage returns the form page with its choices.
func (h *handlers) newIncidentFormPage(r *http.Request, f incidentForm) (incidentFormPage, error) {
	p := focal.PrincipalFromContext(r.Context())
	page := incidentFormPage{
		base: h.base(r, "New incident"), Form: f, ClassGroups: rsitOptions(f.Classification),
		Severities: focal.Severities, TLPs: incidentTLPs(p), PAPs: []focal.PAP{focal.PAPClear, focal.PAPGreen, focal.PAPAmber, focal.PAPRed},
		Channels: focal.Channels,
	}
	if _, all := focal.OrgScope(p); all {
		orgs, _, err := h.orgNames(r.Context())
		if err != nil {
			return page, err
		}
		page.Orgs = orgs
	}
	return page, nil
}

// incidentTLPs are the labels p may give a new incident: a constituent
// cannot report TLP:RED (it could not read it back).
func incidentTLPs(p focal.Principal) []focal.TLP {
	if p.Role == focal.RoleConstituent {
		return slices.DeleteFunc(slices.Clone(focal.TLPs), func(t focal.TLP) bool { return t == focal.TLPRed })
	}
	return focal.TLPs
}

// parseIncidentForm reads the posted new-incident form.
func parseIncidentForm(r *http.Request) (incidentForm, error) {
	if err := parseForm(r); err != nil {
		return incidentForm{}, err
	}
	return incidentForm{
		Title:          formValue(r, "title"),
		Description:    strings.TrimSpace(strings.ReplaceAll(r.PostForm.Get("description"), "\r\n", "\n")),
		Classification: formValue(r, "classification"),
		Severity:       formValue(r, "severity"),
		TLP:            formValue(r, "tlp"),
		PAP:            formValue(r, "pap"),
		Org:            formValue(r, "org"),
		Channel:        formValue(r, "channel"),
		ReporterName:   formValue(r, "reporter_name"),
		ReporterEmail:  formValue(r, "reporter_email"),
		ReporterPhone:  formValue(r, "reporter_phone"),
		ReporterOrg:    formValue(r, "reporter_org"),
	}, nil
}

// toIncident converts the form for principal p; the store validates the rest.
func (f incidentForm) toIncident(p focal.Principal) (*focal.Incident, error) {
	i := &focal.Incident{
		Title: f.Title, Description: f.Description, Channel: f.Channel,
		Reporter: focal.Reporter{Name: f.ReporterName, Email: f.ReporterEmail, Phone: f.ReporterPhone, Organisation: f.ReporterOrg},
	}
	if f.Title == "" {
		return nil, focal.FieldErrorf("title", "give the incident a title")
	}
	if f.Classification != "" {
		c, err := parseClassification("classification", f.Classification)
		if err != nil {
			return nil, err
		}
		i.Classifications = []focal.Classification{c}
	}
	var err error
	if i.Severity, err = focal.ParseSeverity(cmp.Or(f.Severity, string(focal.SeverityMedium))); err != nil {
		return nil, focal.FieldErrorf("severity", "choose a severity from the list")
	}
	if i.TLP, err = focal.ParseTLP(cmp.Or(f.TLP, string(focal.TLPAmber))); err != nil || !slices.Contains(incidentTLPs(p), i.TLP) {
		return nil, focal.FieldErrorf("tlp", "choose a TLP label from the list")
	}
	if i.PAP, err = focal.ParsePAP(cmp.Or(f.PAP, string(focal.PAPAmber))); err != nil {
		return nil, focal.FieldErrorf("pap", "choose a PAP label from the list")
	}
	if f.Org != "" {
		if i.OrgID, err = strconv.ParseInt(f.Org, 10, 64); err != nil || i.OrgID < 0 {
			return nil, focal.FieldErrorf("org", "choose an organisation from the list")
		}
	}
	if f.ReporterPhone != "" && !phoneNumber(f.ReporterPhone) {
		return nil, focal.FieldErrorf("reporter.phone", "write the number with digits, spaces, + ( ) - and . only")
	}
	return i, nil
}
