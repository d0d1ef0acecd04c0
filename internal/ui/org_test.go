package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"focal/internal/focal"
	"focal/internal/store"
)

// orgForm returns a valid organisation form with one contact row.
func orgForm(name string) url.Values {
	return url.Values{
		"name": {name}, "sector": {"isp"}, "country": {"fr"}, "critical": {"default"},
		"networks": {"192.0.2.0/24\r\n2001:db8::/48\r\n"}, "asns": {"AS64500\n64501"}, "domains": {"Example.ORG."},
		"notify_schedule": {"daily"}, "notify_language": {"fr"},
		"contacts": {"1"}, "contact.0.email": {"abuse@example.org"}, "contact.0.role": {"abuse"}, "contact.0.name": {"NOC"},
	}
}

// TestOrgLifecycle creates, reads, updates and deletes an organisation
// through the forms, checking the redirects, the stored result and that
// the lookup table is asked to rebuild.
func TestOrgLifecycle(t *testing.T) {
	e := newEnv(t)
	r := e.post(t, "coordinator", "/organisations", orgForm("Gamma Energy"))
	if r.status != http.StatusSeeOther || !strings.HasSuffix(r.header.Get("Location"), "?notice=created") {
		t.Fatalf("POST /organisations = %d to %q, want 303 to the new page\n%s", r.status, r.header.Get("Location"), r.body)
	}
	page := strings.TrimSuffix(r.header.Get("Location"), "?notice=created")
	o, err := e.st.OrganisationByName(e.sys, "Gamma Energy")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := page, fmt.Sprintf("/organisations/%d", o.ID); got != want {
		t.Errorf("redirect to %s, want %s", got, want)
	}
	if got := fmt.Sprintf("%v %v %v %v %v %d", o.Networks, o.ASNs, o.Domains, o.Country, o.CriticalInfra, len(o.Contacts)); got != "[192.0.2.0/24 2001:db8::/48] [64500 64501] [example.org] FR true 1" {
		t.Errorf("stored organisation = %s", got)
	}
	if e.changed.Load() != 1 {
		t.Errorf("ConstituencyChanged called %d times after a create, want 1", e.changed.Load())
	}

	r = e.get(t, "coordinator", page+"?notice=created")
	for _, want := range []string{"<h1>Gamma Energy</h1>", "Created.", "<code>192.0.2.0/24</code>", "<code>2001:db8::/48</code>", "<code>AS64500</code>", "<code>example.org</code>", "abuse@example.org", "overlaps"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("GET %s lacks %q", page, want)
		}
	}

	r = e.get(t, "coordinator", page+"/edit")
	for _, want := range []string{`value="Gamma Energy"`, "192.0.2.0/24\n2001:db8::/48</textarea>", "AS64500\nAS64501</textarea>", `name="contacts" value="2"`, `value="abuse@example.org"`, `<option value="yes" selected>`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("GET %s/edit lacks %q", page, want)
		}
	}

	f := orgForm("Gamma Energy SA")
	f.Set("networks", "198.51.100.0/24")
	f.Set("critical", "no")
	f.Set("contacts", "2")
	f.Set("contact.0.remove", "1")
	f.Set("contact.1.email", "cert@example.org")
	f.Set("contact.1.role", "security")
	r = e.post(t, "coordinator", page, f)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != page+"?notice=saved" {
		t.Fatalf("POST %s = %d to %q, want 303 to %s?notice=saved\n%s", page, r.status, r.header.Get("Location"), page, r.body)
	}
	o, err = e.st.Organisation(e.sys, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprintf("%v %v %v %v", o.Name, o.Networks, o.CriticalInfra, o.Contacts); got != "Gamma Energy SA [198.51.100.0/24] false [{cert@example.org security   }]" {
		t.Errorf("updated organisation = %s", got)
	}

	r = e.post(t, "coordinator", page+"/delete", url.Values{})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/organisations?notice=deleted" {
		t.Fatalf("POST %s/delete = %d to %q, want 303 to /organisations?notice=deleted", page, r.status, r.header.Get("Location"))
	}
	if _, err := e.st.Organisation(e.sys, o.ID); focal.ErrorCode(err) != focal.ENOTFOUND {
		t.Errorf("after delete, Organisation = %v, want not found", err)
	}
	if e.changed.Load() != 3 {
		t.Errorf("ConstituencyChanged called %d times after create, update, delete, want 3", e.changed.Load())
	}

	// An organisation with accounts cannot be deleted: a 409 page says why.
	r = e.post(t, "coordinator", fmt.Sprintf("/organisations/%d/delete", e.orgA.ID), url.Values{})
	if r.status != http.StatusConflict || !strings.Contains(r.body, "still has 1 account(s)") {
		t.Errorf("delete Alpha Telecom (with an account) = %d, want 409 saying why\n%s", r.status, r.body)
	}
}

// TestOrgFormErrors posts bad forms: each is shown again with 400, the
// message names the field as the user knows it, sits next to the field,
// and the typed values are kept.
func TestOrgFormErrors(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name  string
		edit  func(url.Values)
		field string // the form field the error is next to
		msg   string // the summary: label and message
	}{
		{"bad-cidr", func(f url.Values) { f.Set("networks", "192.0.2.0/24\n10.0.0.300/8") }, "networks", "Networks</a>: line 2: not a network in CIDR form: &#34;10.0.0.300/8&#34;"},
		{"bad-asn", func(f url.Values) { f.Set("asns", "ASX") }, "asns", "AS numbers</a>: line 1: not an AS number"},
		{"reserved-asn", func(f url.Values) { f.Set("asns", "AS23456") }, "asns", "AS numbers</a>: AS23456 is reserved"},
		{"bad-domain", func(f url.Values) { f.Set("domains", "localhost") }, "domains", "Domains</a>: domain &#34;localhost&#34; needs at least two labels"},
		{"no-name", func(f url.Values) { f.Set("name", " ") }, "name", "Name</a>: required"},
		{"taken-name", func(f url.Values) { f.Set("name", "beta bank") }, "name", "Name</a>: an organisation named &#34;beta bank&#34; already exists"},
		{"bad-sector", func(f url.Values) { f.Set("sector", "piracy") }, "sector", "Sector</a>: unknown sector &#34;piracy&#34;"},
		{"bad-country", func(f url.Values) { f.Set("country", "France") }, "country", "Country</a>: want an ISO 3166-1 alpha-2 code"},
		{"bad-contact-email", func(f url.Values) {
			f.Set("contacts", "3")
			f.Set("contact.1.email", "") // an empty row is skipped, so the error is in row 3
			f.Set("contact.2.email", "not-an-address")
		}, "contact.2.email", "Contact 3, e-mail</a>: not a valid e-mail address"},
		{"bad-pgp-key", func(f url.Values) { f.Set("contact.0.pgp_key", "hello") }, "contact.0.pgp_key", "Contact 1, PGP key</a>: not an ASCII-armoured OpenPGP public key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := orgForm("Delta Water")
			tt.edit(f)
			for _, path := range []string{"/organisations", fmt.Sprintf("/organisations/%d", e.orgA.ID)} {
				r := e.post(t, "coordinator", path, f)
				if r.status != http.StatusBadRequest {
					t.Fatalf("POST %s = %d, want 400\n%s", path, r.status, r.body)
				}
				if !strings.Contains(r.body, `<a href="#f-`+tt.field+`">`+tt.msg) {
					t.Errorf("POST %s: the summary lacks %q", path, tt.msg)
				}
				if !strings.Contains(r.body, `id="e-`+tt.field+`"`) || !strings.Contains(r.body, `aria-invalid="true"`) {
					t.Errorf("POST %s: no message next to field %s", path, tt.field)
				}
				for _, typed := range []string{f.Get("networks"), f.Get("contact.0.email"), f.Get("notify_language")} {
					if !strings.Contains(r.body, typed) {
						t.Errorf("POST %s: the form lost the typed %q", path, typed)
					}
				}
			}
			if _, err := e.st.OrganisationByName(e.sys, "Delta Water"); focal.ErrorCode(err) != focal.ENOTFOUND {
				t.Errorf("a rejected form stored the organisation: %v", err)
			}
		})
	}
	if o, err := e.st.Organisation(e.sys, e.orgA.ID); err != nil || o.Name != "Alpha Telecom" {
		t.Errorf("a rejected edit changed Alpha Telecom: %v, %v", o, err)
	}
	if e.changed.Load() != 0 {
		t.Errorf("ConstituencyChanged called %d times for rejected forms, want 0", e.changed.Load())
	}
}

// TestOrgAddContactRow checks "Add another contact" shows the form with
// one more row and stores nothing.
func TestOrgAddContactRow(t *testing.T) {
	e := newEnv(t)
	f := orgForm("Epsilon Rail")
	f.Set("add_contact", "1")
	r := e.post(t, "coordinator", "/organisations", f)
	if r.status != http.StatusOK {
		t.Fatalf("POST /organisations with add_contact = %d, want 200", r.status)
	}
	for _, want := range []string{`name="contacts" value="2"`, `name="contact.1.email" value=""`, `value="abuse@example.org"`, "<legend>Contact 2</legend>"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("form with an added row lacks %q", want)
		}
	}
	if _, err := e.st.OrganisationByName(e.sys, "Epsilon Rail"); focal.ErrorCode(err) != focal.ENOTFOUND {
		t.Errorf("adding a row stored the organisation: %v", err)
	}
}

// TestOrgListFilterAndPartial checks the filters, and that an htmx request
// gets only the results table.
func TestOrgListFilterAndPartial(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name    string
		as      string
		path    string
		header  []string
		partial bool
		has     []string
		hasNot  []string
	}{
		{"all", "handler", "/organisations", nil, false, []string{"2 organisations.", "Alpha Telecom", "Beta Bank"}, nil},
		{"query", "handler", "/organisations?q=ALPHA", nil, false, []string{"1 organisation.", "Alpha Telecom", `value="ALPHA"`}, []string{"Beta Bank"}},
		{"sector", "handler", "/organisations?sector=banking", nil, false, []string{"Beta Bank", `<option value="banking" selected>`}, []string{"Alpha Telecom"}},
		{"country", "handler", "/organisations?country=be", nil, false, []string{"Beta Bank"}, []string{"Alpha Telecom"}},
		{"none", "handler", "/organisations?q=zzz", nil, false, []string{"0 organisations.", "No organisation matches."}, nil},
		{"htmx", "handler", "/organisations?q=beta", []string{"HX-Request", "true"}, true, []string{`<p id="result-count">1 organisation.</p>`, "Beta Bank", `<table id="org-table">`}, []string{"<html", "<form", "Alpha Telecom"}},
		{"htmx-history-restore", "handler", "/organisations?q=beta", []string{"HX-Request", "true", "HX-History-Restore-Request", "true"}, false, []string{"<html", "Beta Bank"}, nil},
		{"constituent-scoped", "constituent", "/organisations", nil, false, []string{"1 organisation.", "Alpha Telecom"}, []string{"Beta Bank", "New organisation"}},
		{"constituent-htmx", "constituent", "/organisations?q=a", []string{"HX-Request", "true"}, true, []string{"Alpha Telecom"}, []string{"Beta Bank"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.get(t, tt.as, tt.path, tt.header...)
			if r.status != http.StatusOK {
				t.Fatalf("GET %s = %d, want 200", tt.path, r.status)
			}
			if got := strings.Contains(r.body, "<!doctype html>"); got == tt.partial {
				t.Errorf("GET %s whole page = %v, want %v", tt.path, got, !tt.partial)
			}
			if !strings.Contains(strings.Join(r.header.Values("Vary"), ","), "HX-Request") {
				t.Errorf("GET %s Vary = %v, want HX-Request in it", tt.path, r.header.Values("Vary"))
			}
			for _, s := range tt.has {
				if !strings.Contains(r.body, s) {
					t.Errorf("GET %s lacks %q", tt.path, s)
				}
			}
			for _, s := range tt.hasNot {
				if strings.Contains(r.body, s) {
					t.Errorf("GET %s has %q", tt.path, s)
				}
			}
		})
	}
}

// TestOrgListPaging checks the pager links keep the filters.
func TestOrgListPaging(t *testing.T) {
	e := newEnv(t)
	for i := range 30 {
		o := &focal.Organisation{Name: fmt.Sprintf("Paged %02d", i), Sector: "retail", Country: "FR"}
		if err := e.st.CreateOrganisation(e.sys, o); err != nil {
			t.Fatal(err)
		}
	}
	r := e.get(t, "handler", "/organisations?sector=retail")
	for _, want := range []string{"30 organisations, page 1 of 2.", `href="/organisations?page=2&amp;sector=retail" rel="next"`, "Paged 24"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("page 1 lacks %q", want)
		}
	}
	r = e.get(t, "handler", "/organisations?page=2&sector=retail")
	for _, want := range []string{"page 2 of 2.", `href="/organisations?sector=retail" rel="prev"`, "Paged 29"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("page 2 lacks %q", want)
		}
	}
	if strings.Contains(r.body, "Paged 24") {
		t.Errorf("page 2 repeats page 1")
	}
}

// TestOrgDetail checks the overlap flags (staff only) and that showing
// contacts is audited.
func TestOrgDetail(t *testing.T) {
	e := newEnv(t)
	path := fmt.Sprintf("/organisations/%d", e.orgA.ID)
	tests := []struct {
		as       string
		overlaps bool
		edit     bool
	}{
		{"coordinator", true, true},
		{"handler", true, false},
		{"constituent", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.as, func(t *testing.T) {
			r := e.get(t, tt.as, path)
			flagged := strings.Contains(r.body, "overlaps <code>192.0.2.128/25</code> of <a href=\"/organisations/"+fmt.Sprint(e.orgB.ID)+"\">Beta Bank</a>")
			if flagged != tt.overlaps {
				t.Errorf("GET %s as %s flags the overlap with Beta Bank = %v, want %v", path, tt.as, flagged, tt.overlaps)
			}
			if !tt.overlaps && strings.Contains(r.body, "Beta Bank") {
				t.Errorf("GET %s as %s names Beta Bank", path, tt.as)
			}
			if got := strings.Contains(r.body, path+"/edit"); got != tt.edit {
				t.Errorf("GET %s as %s shows Edit = %v, want %v", path, tt.as, got, tt.edit)
			}
			if got := strings.Contains(r.body, path+"/delete"); got != tt.edit {
				t.Errorf("GET %s as %s shows Delete = %v, want %v", path, tt.as, got, tt.edit)
			}
			ctx := focal.NewContextWithPrincipal(context.Background(), focal.System())
			recs, err := e.st.AuditRecords(ctx, store.AuditFilter{Actor: tt.as, Action: "view", ObjectType: "organisation", ObjectID: fmt.Sprint(e.orgA.ID)})
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 1 || !strings.Contains(recs[0].After, `"via":"ui"`) {
				t.Errorf("audit records of %s viewing the contacts = %+v, want one via ui", tt.as, recs)
			}
		})
	}
}
