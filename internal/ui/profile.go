package ui

import (
	"errors"
	"net/http"
	"strings"

	"focal/internal/focal"
)

// profilePage is the data of the team profile form and of the public
// RFC 2350 page.
type profilePage struct {
	base
	Profile  focal.TeamProfile
	Keys     string // one per line, as typed
	Services string
	Set      bool // a profile is stored
	Err      *fieldError
	Text     string // the plain-text rendering
}

// ErrorFor returns the error message about field, or "".
func (p profilePage) ErrorFor(field string) string {
	if p.Err != nil && p.Err.Field == field {
		return p.Err.Message
	}
	return ""
}

func (h *handlers) loadProfile(r *http.Request) (focal.TeamProfile, bool, error) {
	p, err := h.store.TeamProfile(r.Context())
	switch {
	case err == nil:
		return *p, true, nil
	case focal.ErrorCode(err) == focal.ENOTFOUND:
		return focal.TeamProfile{}, false, nil
	}
	return focal.TeamProfile{}, false, err
}

// profileEdit serves GET /federation/profile: the team's RFC 2350
// profile, as a form for coordinators.
func (h *handlers) profileEdit(w http.ResponseWriter, r *http.Request) {
	p, set, err := h.loadProfile(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "profile_form", profilePage{base: h.base(r, "Team profile (RFC 2350)"), Profile: p, Set: set,
		Keys: strings.Join(p.PublicKeys, "\n"), Services: strings.Join(p.Services, "\n")})
}

// profileUpdate serves POST /federation/profile.
func (h *handlers) profileUpdate(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(r); err != nil {
		h.error(w, r, err)
		return
	}
	v := r.PostForm
	p := focal.TeamProfile{
		DocumentLocation: v.Get("document_location"), Name: v.Get("name"), ShortName: v.Get("short_name"), Country: v.Get("country"),
		Website: v.Get("website"), Address: v.Get("address"), TimeZone: v.Get("time_zone"), Phone: v.Get("phone"),
		EmergencyPhone: v.Get("emergency_phone"), Email: v.Get("email"), Members: v.Get("members"), OperatingHours: v.Get("operating_hours"),
		CustomerContact: v.Get("customer_contact"), Mission: v.Get("mission"), Constituency: v.Get("constituency"),
		Sponsorship: v.Get("sponsorship"), Authority: v.Get("authority"), IncidentTypes: v.Get("incident_types"),
		Cooperation: v.Get("cooperation"), Communication: v.Get("communication"), ReportingForms: v.Get("reporting_forms"),
		Disclaimers: v.Get("disclaimers"), TAXII: v.Get("taxii"),
		PublicKeys: textList(v.Get("public_keys")), Services: textList(v.Get("services")),
	}
	if err := h.store.SetTeamProfile(r.Context(), &p); err != nil {
		var fe *focal.Error
		if !errors.As(err, &fe) || fe.Code != focal.EINVALID {
			h.error(w, r, err)
			return
		}
		h.render(w, r, http.StatusBadRequest, "profile_form", profilePage{base: h.base(r, "Team profile (RFC 2350)"), Profile: p,
			Keys: v.Get("public_keys"), Services: v.Get("services"), Err: &fieldError{Field: fe.Field, Label: fe.Field, Message: fe.Message}})
		return
	}
	redirect(w, r, withNotice("/federation/profile", "saved"))
}

// rfc2350 serves GET /rfc2350 (HTML) and /rfc2350.txt (plain text): the
// team's public description after RFC 2350, generated from its profile.
func (h *handlers) rfc2350(w http.ResponseWriter, r *http.Request) {
	p, set, err := h.loadProfile(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if !set {
		h.error(w, r, focal.Errorf(focal.ENOTFOUND, "the team has not published its profile yet"))
		return
	}
	if strings.HasSuffix(r.URL.Path, ".txt") {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=300")
		_, _ = w.Write([]byte(p.Text()))
		return
	}
	h.render(w, r, http.StatusOK, "rfc2350", profilePage{base: h.base(r, "About "+p.Name), Profile: p, Text: p.Text(), Set: true})
}
