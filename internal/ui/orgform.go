package ui

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"focal/internal/focal"
)

// maxContactRows bounds the contact rows a form may post.
const maxContactRows = 200

// orgForm is the organisation form as the user typed it: text, so that a
// form with an error is shown again exactly as it was.
type orgForm struct {
	Name     string
	Sector   string
	Country  string
	Critical string // "default" (from the sector), "yes" or "no"
	Networks string // one per line
	ASNs     string // one per line
	Domains  string // one per line
	Schedule string
	Language string
	Encrypt  bool
	Contacts []contactForm
}

// contactForm is one contact row of the form.
type contactForm struct {
	Email    string
	Role     string
	Name     string
	Language string
	PGPKey   string
	Remove   bool
}

func (c contactForm) blank() bool {
	return c.Email == "" && c.Name == "" && c.Language == "" && c.PGPKey == ""
}

// fieldError is a validation error placed next to a form field.
type fieldError struct {
	Field   string // the form field's name, e.g. "networks" or "contact.0.email"
	Label   string // the field as the user knows it, e.g. "Networks"
	Message string
}

// orgFormPage is the data of the organisation form (new and edit).
type orgFormPage struct {
	base
	ID        int64  // 0 for a new organisation
	Action    string // where the form posts
	Form      orgForm
	Err       *fieldError
	Sectors   []focal.Sector
	Roles     []string
	Schedules []string
	// ContactsOnly is the form of an organisation's own constituents:
	// contacts and notification preferences, nothing else.
	ContactsOnly bool
}

// ErrorFor returns the error message about field, or "".
func (p orgFormPage) ErrorFor(field string) string {
	if p.Err != nil && p.Err.Field == field {
		return p.Err.Message
	}
	return ""
}

// newOrgFormPage returns the form page for organisation id (0 for new).
func (h *handlers) newOrgFormPage(r *http.Request, id int64, f orgForm) orgFormPage {
	page := orgFormPage{
		base: h.base(r, "New organisation"), ID: id, Action: "/organisations", Form: f,
		Sectors: focal.Sectors, Roles: focal.ContactRoles, Schedules: focal.NotifySchedules,
	}
	if id != 0 {
		page.Title = "Edit " + f.Name
		page.Action = "/organisations/" + strconv.FormatInt(id, 10)
	}
	return page
}

// blankContact is the empty row offered for a new contact.
func blankContact() contactForm { return contactForm{Role: "abuse"} }

// orgToForm fills the form from a stored organisation, with one blank
// contact row to add another.
func orgToForm(o *focal.Organisation) orgForm {
	f := orgForm{
		Name: o.Name, Sector: o.Sector, Country: o.Country, Critical: "no",
		Schedule: o.Notify.Schedule, Language: o.Notify.Language, Encrypt: o.Notify.Encrypt,
	}
	if o.CriticalInfra {
		f.Critical = "yes"
	}
	var nets, asns []string
	for _, p := range o.Networks {
		nets = append(nets, p.String())
	}
	for _, a := range o.ASNs {
		asns = append(asns, "AS"+strconv.FormatUint(uint64(a), 10))
	}
	f.Networks = strings.Join(nets, "\n")
	f.ASNs = strings.Join(asns, "\n")
	f.Domains = strings.Join(o.Domains, "\n")
	for _, c := range o.Contacts {
		f.Contacts = append(f.Contacts, contactForm{Email: c.Email, Role: c.Role, Name: c.Name, Language: c.Language, PGPKey: c.PGPKey})
	}
	f.Contacts = append(f.Contacts, blankContact())
	return f
}

// parseOrgForm reads the posted organisation form. addRow reports that the
// user asked for another contact row rather than to save.
func parseOrgForm(r *http.Request) (f orgForm, addRow bool, err error) {
	if err := parseForm(r); err != nil {
		return f, false, err
	}
	v := r.PostForm
	f = orgForm{
		Name: v.Get("name"), Sector: v.Get("sector"), Country: v.Get("country"), Critical: v.Get("critical"),
		Networks: v.Get("networks"), ASNs: v.Get("asns"), Domains: v.Get("domains"),
		Schedule: v.Get("notify_schedule"), Language: v.Get("notify_language"), Encrypt: v.Get("notify_encrypt") != "",
	}
	n, err := strconv.Atoi(v.Get("contacts"))
	if err != nil || n < 0 {
		n = 0
	}
	n = min(n, maxContactRows)
	for i := range n {
		k := "contact." + strconv.Itoa(i) + "."
		f.Contacts = append(f.Contacts, contactForm{
			Email: v.Get(k + "email"), Role: v.Get(k + "role"), Name: v.Get(k + "name"),
			Language: v.Get(k + "language"), PGPKey: v.Get(k + "pgp_key"), Remove: v.Get(k+"remove") != "",
		})
	}
	return f, v.Get("add_contact") != "", nil
}

// line is one non-empty line of a textarea with its 1-based number.
type line struct {
	n    int
	text string
}

// lines splits a textarea into its non-empty trimmed lines.
func lines(s string) []line {
	var out []line
	for i, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, line{i + 1, l})
		}
	}
	return out
}

// toOrg converts the form. rows maps the index of each kept contact to its
// form row, to place the store's errors about contacts[i].
func (f orgForm) toOrg() (o *focal.Organisation, rows []int, err error) {
	o = &focal.Organisation{
		Name: f.Name, Sector: f.Sector, Country: f.Country,
		Notify: focal.NotifyPrefs{Schedule: f.Schedule, Language: strings.TrimSpace(f.Language), Encrypt: f.Encrypt},
	}
	for _, l := range lines(f.Networks) {
		p, err := focal.ParsePrefix(l.text)
		if err != nil {
			return nil, nil, focal.FieldErrorf("networks", "line %d: %v", l.n, err)
		}
		o.Networks = append(o.Networks, p)
	}
	for _, l := range lines(f.ASNs) {
		a, err := focal.ParseASN(l.text)
		if err != nil {
			return nil, nil, focal.FieldErrorf("asns", "line %d: %v", l.n, err)
		}
		o.ASNs = append(o.ASNs, a)
	}
	for _, l := range lines(f.Domains) {
		o.Domains = append(o.Domains, l.text)
	}
	for i, c := range f.Contacts {
		if c.Remove || c.blank() {
			continue
		}
		o.Contacts = append(o.Contacts, focal.Contact{
			Email: c.Email, Role: c.Role, Name: strings.TrimSpace(c.Name), Language: c.Language,
			PGPKey: strings.TrimSpace(strings.ReplaceAll(c.PGPKey, "\r\n", "\n")),
		})
		rows = append(rows, i)
	}
	switch f.Critical {
	case "yes":
		o.CriticalInfra = true
	case "no":
	default:
		sec, _ := focal.LookupSector(strings.ToLower(strings.TrimSpace(f.Sector))) // an unknown sector fails Validate
		o.CriticalInfra = sec.Critical
	}
	return o, rows, nil
}

// orgFieldError turns a validation error from toOrg or the store into a
// message next to the form field it is about; ok is false for other errors.
func orgFieldError(err error, rows []int) (fe *fieldError, ok bool) {
	var e *focal.Error
	if !errors.As(err, &e) || e.Code != focal.EINVALID {
		return nil, false
	}
	field, label := e.Field, ""
	base, index, sub := splitField(e.Field)
	switch base {
	case "name":
		label = "Name"
	case "sector":
		label = "Sector"
	case "country":
		label = "Country"
	case "networks":
		field, label = "networks", "Networks"
	case "asns":
		field, label = "asns", "AS numbers"
	case "domains":
		field, label = "domains", "Domains"
	case "notify.schedule":
		field, label = "notify_schedule", "Notification schedule"
	case "contacts":
		row := index
		if index >= 0 && index < len(rows) {
			row = rows[index]
		}
		names := map[string]string{"email": "e-mail", "role": "role", "name": "name", "language": "language", "pgp_key": "PGP key"}
		field = fmt.Sprintf("contact.%d.%s", row, sub)
		label = fmt.Sprintf("Contact %d, %s", row+1, names[sub])
	default:
		field, label = "", e.Field
	}
	return &fieldError{Field: field, Label: label, Message: e.Message}, true
}

// splitField splits "contacts[2].email" into "contacts", 2, "email"; a
// field without an index gives index -1.
func splitField(f string) (base string, index int, sub string) {
	open := strings.IndexByte(f, '[')
	end := strings.IndexByte(f, ']')
	if open < 0 || end < open {
		return f, -1, ""
	}
	i, err := strconv.Atoi(f[open+1 : end])
	if err != nil {
		return f, -1, ""
	}
	return f[:open], i, strings.TrimPrefix(f[end+1:], ".")
}
