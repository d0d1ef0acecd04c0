package focal

import (
	"fmt"
	"net/mail"
	"net/url"
	"strings"
	"time"
)

// TeamProfile is the team's description of itself, after the template of
// RFC 2350 (Expectations for Computer Security Incident Response): what
// peers and constituents need to know to work with it. focal publishes it
// as an HTML and a plain-text RFC 2350 document and as JSON for the
// directory of focal points, where peers import it.
type TeamProfile struct {
	// 1. Document information.
	LastUpdated      time.Time `json:"last_updated"`
	DocumentLocation string    `json:"document_location,omitempty"` // URL where the current version is
	// 2. Contact information.
	Name            string   `json:"name"`                 // e.g. "CERT-EX"
	ShortName       string   `json:"short_name,omitempty"` // e.g. "CERT-EX"
	Country         string   `json:"country,omitempty"`    // ISO 3166-1 alpha-2
	Website         string   `json:"website,omitempty"`
	Address         string   `json:"address,omitempty"`
	TimeZone        string   `json:"time_zone,omitempty"` // e.g. "Europe/Paris (UTC+1, UTC+2 in summer)"
	Phone           string   `json:"phone,omitempty"`
	EmergencyPhone  string   `json:"emergency_phone,omitempty"`
	Email           string   `json:"email"`
	PublicKeys      []string `json:"public_keys,omitempty"` // OpenPGP fingerprints or key URLs
	Members         string   `json:"members,omitempty"`
	OperatingHours  string   `json:"operating_hours,omitempty"`
	CustomerContact string   `json:"customer_contact,omitempty"` // how constituents should reach the team
	// 3. Charter.
	Mission      string `json:"mission,omitempty"`
	Constituency string `json:"constituency,omitempty"`
	Sponsorship  string `json:"sponsorship,omitempty"`
	Authority    string `json:"authority,omitempty"`
	// 4. Policies.
	IncidentTypes string `json:"incident_types,omitempty"` // types of incidents and level of support
	Cooperation   string `json:"cooperation,omitempty"`    // co-operation, interaction and disclosure
	Communication string `json:"communication,omitempty"`  // communication and authentication
	// 5. Services.
	Services []string `json:"services,omitempty"` // e.g. after the FIRST CSIRT Services Framework
	// 6. Incident reporting forms; 7. Disclaimers.
	ReportingForms string `json:"reporting_forms,omitempty"`
	Disclaimers    string `json:"disclaimers,omitempty"`
	// TAXII is the team's TAXII 2.1 discovery URL, for peers.
	TAXII string `json:"taxii,omitempty"`
}

// MaxProfileText bounds each free-text field of a profile.
const MaxProfileText = 4000

// Normalize trims the profile's text and drops empty list items.
func (p *TeamProfile) Normalize() {
	for _, f := range p.textFields() {
		*f.v = strings.TrimSpace(strings.ReplaceAll(*f.v, "\r\n", "\n"))
	}
	p.Country = strings.ToUpper(p.Country)
	p.PublicKeys = trimList(p.PublicKeys)
	p.Services = trimList(p.Services)
}

func trimList(in []string) []string {
	var out []string
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

type profileField struct {
	name string
	v    *string
}

func (p *TeamProfile) textFields() []profileField {
	return []profileField{
		{"document_location", &p.DocumentLocation}, {"name", &p.Name}, {"short_name", &p.ShortName}, {"country", &p.Country},
		{"website", &p.Website}, {"address", &p.Address}, {"time_zone", &p.TimeZone}, {"phone", &p.Phone},
		{"emergency_phone", &p.EmergencyPhone}, {"email", &p.Email}, {"members", &p.Members}, {"operating_hours", &p.OperatingHours},
		{"customer_contact", &p.CustomerContact}, {"mission", &p.Mission}, {"constituency", &p.Constituency},
		{"sponsorship", &p.Sponsorship}, {"authority", &p.Authority}, {"incident_types", &p.IncidentTypes},
		{"cooperation", &p.Cooperation}, {"communication", &p.Communication}, {"reporting_forms", &p.ReportingForms},
		{"disclaimers", &p.Disclaimers}, {"taxii", &p.TAXII},
	}
}

// Validate checks a profile after Normalize: a name and a contact
// address, bounded text, URLs that are http(s), a country code.
func (p *TeamProfile) Validate() error {
	if p.Name == "" {
		return FieldErrorf("name", "required")
	}
	if p.Email == "" {
		return FieldErrorf("email", "required: the address peers and constituents write to")
	}
	if _, err := mail.ParseAddress(p.Email); err != nil {
		return FieldErrorf("email", "not an e-mail address: %q", p.Email)
	}
	if p.Country != "" && !validCountry(p.Country) {
		return FieldErrorf("country", "want an ISO 3166-1 alpha-2 code such as FR, got %q", p.Country)
	}
	for _, f := range p.textFields() {
		if len(*f.v) > MaxProfileText {
			return FieldErrorf(f.name, "longer than %d characters", MaxProfileText)
		}
	}
	for _, f := range []profileField{{"website", &p.Website}, {"document_location", &p.DocumentLocation}, {"taxii", &p.TAXII}} {
		if *f.v == "" {
			continue
		}
		u, err := url.Parse(*f.v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return FieldErrorf(f.name, "want an http(s) URL, got %q", *f.v)
		}
	}
	if len(p.PublicKeys) > 20 || len(p.Services) > 100 {
		return FieldErrorf("services", "too many items")
	}
	for i, s := range append(append([]string{}, p.PublicKeys...), p.Services...) {
		if len(s) > 500 {
			return FieldErrorf("services", "item %d longer than 500 characters", i+1)
		}
	}
	return nil
}

// Text renders the profile as a plain-text document following the
// sections of RFC 2350's template; sections with nothing to say are
// marked as such rather than left out, so readers see what is missing.
func (p *TeamProfile) Text() string {
	var b strings.Builder
	title := p.Name
	if p.ShortName != "" && p.ShortName != p.Name {
		title += " (" + p.ShortName + ")"
	}
	fmt.Fprintf(&b, "Description of %s according to RFC 2350\n%s\n\n", title, strings.Repeat("=", len("Description of  according to RFC 2350")+len(title)))
	section := func(n, name string) { fmt.Fprintf(&b, "\n%s. %s\n", n, name) }
	item := func(n, name, v string) {
		if v == "" {
			v = "(not stated)"
		}
		fmt.Fprintf(&b, "\n%s %s\n\n%s\n", n, name, indent(v))
	}
	list := func(n, name string, vs []string) {
		v := ""
		for _, s := range vs {
			v += "- " + s + "\n"
		}
		item(n, name, strings.TrimSuffix(v, "\n"))
	}
	section("1", "Document Information")
	last := "(not stated)"
	if !p.LastUpdated.IsZero() {
		last = p.LastUpdated.UTC().Format("2006-01-02")
	}
	item("1.1", "Date of Last Update", last)
	item("1.2", "Distribution List for Notifications", "Changes are published at the location below and in the directory of focal points.")
	item("1.3", "Locations where this Document May Be Found", p.DocumentLocation)
	section("2", "Contact Information")
	item("2.1", "Name of the Team", title)
	item("2.2", "Address", p.Address)
	item("2.3", "Time Zone", p.TimeZone)
	item("2.4", "Telephone Number", p.Phone)
	item("2.5", "Facsimile Number", "")
	item("2.6", "Other Telecommunication", p.EmergencyPhone)
	item("2.7", "Electronic Mail Address", p.Email)
	list("2.8", "Public Keys and Encryption Information", p.PublicKeys)
	item("2.9", "Team Members", p.Members)
	item("2.10", "Other Information", p.Website)
	item("2.11", "Points of Customer Contact", strings.TrimSpace(p.CustomerContact+"\n"+p.OperatingHours))
	section("3", "Charter")
	item("3.1", "Mission Statement", p.Mission)
	item("3.2", "Constituency", p.Constituency)
	item("3.3", "Sponsorship and/or Affiliation", p.Sponsorship)
	item("3.4", "Authority", p.Authority)
	section("4", "Policies")
	item("4.1", "Types of Incidents and Level of Support", p.IncidentTypes)
	item("4.2", "Co-operation, Interaction and Disclosure of Information", p.Cooperation)
	item("4.3", "Communication and Authentication", p.Communication)
	section("5", "Services")
	list("5.1", "Services offered", p.Services)
	section("6", "Incident Reporting Forms")
	item("6.1", "Forms", p.ReportingForms)
	section("7", "Disclaimers")
	item("7.1", "Disclaimers", p.Disclaimers)
	return b.String()
}

func indent(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = "   " + l
	}
	return strings.Join(lines, "\n")
}
