package focal

import (
	"fmt"
	"net/mail"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Organisation is a member of the constituency: a network owner (ISP,
// ministry, bank, utility…) that focal notifies about its networks.
type Organisation struct {
	ID            int64
	Name          string
	Sector        string // one of Sectors
	CriticalInfra bool   // operates critical infrastructure; defaults from the sector
	Country       string // ISO 3166-1 alpha-2, upper case
	Networks      []netip.Prefix
	ASNs          []uint32
	Domains       []string // claims the domain and all its subdomains
	Contacts      []Contact
	Notify        NotifyPrefs
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Contact is an address of an organisation.
type Contact struct {
	Email    string `json:"email"`
	Role     string `json:"role"`               // abuse, security, technical, management, other
	Name     string `json:"name,omitempty"`     // optional person or desk name
	PGPKey   string `json:"pgp_key,omitempty"`  // ASCII-armoured OpenPGP public key
	Language string `json:"language,omitempty"` // BCP 47 language tag, e.g. "fr"
}

// NotifyPrefs are an organisation's notification preferences.
type NotifyPrefs struct {
	Schedule string `json:"schedule"`           // immediate, hourly, daily, none
	Language string `json:"language,omitempty"` // default language of messages
	Encrypt  bool   `json:"encrypt,omitempty"`  // encrypt to the contact's key when one is known
}

// Sector describes one sector of the registry.
type Sector struct {
	Name     string
	Critical bool // critical infrastructure (after NIS2 Annex I and common national lists)
}

// Sectors lists the sectors an organisation may belong to.
var Sectors = []Sector{
	{"government", true}, {"public-administration", true}, {"energy", true}, {"transport", true},
	{"banking", true}, {"financial-market", true}, {"health", true}, {"drinking-water", true},
	{"waste-water", true}, {"digital-infrastructure", true}, {"telecom", true}, {"isp", true},
	{"ict-services", true}, {"space", true}, {"defence", true}, {"emergency-services", true},
	{"postal", false}, {"manufacturing", false}, {"chemicals", false}, {"food", false},
	{"education", false}, {"research", false}, {"media", false}, {"retail", false},
	{"civil-society", false}, {"hosting", false}, {"other", false},
}

// ContactRoles lists the kinds of contact.
var ContactRoles = []string{"abuse", "security", "technical", "management", "other"}

// NotifySchedules lists the notification schedules.
var NotifySchedules = []string{"immediate", "hourly", "daily", "none"}

// LookupSector returns the sector named s.
func LookupSector(s string) (Sector, bool) {
	for _, sec := range Sectors {
		if sec.Name == s {
			return sec, true
		}
	}
	return Sector{}, false
}

// Normalize cleans o in place: trims text, lower-cases domains and e-mail
// domains, upper-cases the country, masks and sorts networks, sorts and
// dedupes ASNs and domains, defaults the notification schedule.
func (o *Organisation) Normalize() {
	o.Name = strings.Join(strings.Fields(o.Name), " ")
	o.Sector = strings.ToLower(strings.TrimSpace(o.Sector))
	o.Country = strings.ToUpper(strings.TrimSpace(o.Country))
	for i, p := range o.Networks {
		o.Networks[i] = p.Masked()
	}
	slices.SortFunc(o.Networks, func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return a.Bits() - b.Bits()
	})
	o.Networks = slices.Compact(o.Networks)
	slices.Sort(o.ASNs)
	o.ASNs = slices.Compact(o.ASNs)
	for i, d := range o.Domains {
		o.Domains[i] = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), ".")
	}
	slices.Sort(o.Domains)
	o.Domains = slices.Compact(o.Domains)
	for i := range o.Contacts {
		c := &o.Contacts[i]
		c.Email = strings.TrimSpace(c.Email)
		c.Role = strings.ToLower(strings.TrimSpace(c.Role))
		if c.Role == "" {
			c.Role = "abuse"
		}
		c.Language = strings.TrimSpace(c.Language)
	}
	if o.Notify.Schedule == "" {
		o.Notify.Schedule = "daily"
	}
}

// Validate checks o after Normalize and returns an EINVALID error naming
// the first field that is wrong.
func (o *Organisation) Validate() error {
	switch {
	case o.Name == "":
		return FieldErrorf("name", "required")
	case len(o.Name) > 200:
		return FieldErrorf("name", "longer than 200 characters")
	}
	if _, ok := LookupSector(o.Sector); !ok {
		return FieldErrorf("sector", "unknown sector %q", o.Sector)
	}
	if !validCountry(o.Country) {
		return FieldErrorf("country", "want an ISO 3166-1 alpha-2 code such as FR, got %q", o.Country)
	}
	for i, p := range o.Networks {
		if !p.IsValid() {
			return FieldErrorf(fmt.Sprintf("networks[%d]", i), "invalid network")
		}
	}
	for i, a := range o.ASNs {
		if a == 0 || a == 23456 || a == 4294967295 {
			return FieldErrorf(fmt.Sprintf("asns[%d]", i), "AS%d is reserved", a)
		}
	}
	for i, d := range o.Domains {
		if err := ValidateDomain(d); err != nil {
			return FieldErrorf(fmt.Sprintf("domains[%d]", i), "%v", err)
		}
	}
	for i, c := range o.Contacts {
		f := fmt.Sprintf("contacts[%d]", i)
		if err := ValidateEmail(c.Email); err != nil {
			return FieldErrorf(f+".email", "%v", err)
		}
		if !slices.Contains(ContactRoles, c.Role) {
			return FieldErrorf(f+".role", "unknown contact role %q: want %s", c.Role, strings.Join(ContactRoles, ", "))
		}
		if c.PGPKey != "" && !strings.Contains(c.PGPKey, "-----BEGIN PGP PUBLIC KEY BLOCK-----") {
			return FieldErrorf(f+".pgp_key", "not an ASCII-armoured OpenPGP public key")
		}
		if len(c.Language) > 35 {
			return FieldErrorf(f+".language", "not a language tag")
		}
	}
	if !slices.Contains(NotifySchedules, o.Notify.Schedule) {
		return FieldErrorf("notify.schedule", "unknown schedule %q: want %s", o.Notify.Schedule, strings.Join(NotifySchedules, ", "))
	}
	return nil
}

func validCountry(c string) bool {
	return len(c) == 2 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z'
}

// ValidateDomain checks a lower-case DNS name in A-label form.
func ValidateDomain(d string) error {
	if d == "" {
		return fmt.Errorf("empty domain")
	}
	if len(d) > 253 {
		return fmt.Errorf("domain longer than 253 characters")
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return fmt.Errorf("domain %q needs at least two labels", d)
	}
	if last := labels[len(labels)-1]; strings.Trim(last, "0123456789") == "" {
		return fmt.Errorf("%q is not a domain name: its last label is a number (an address belongs in networks)", d)
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 {
			return fmt.Errorf("domain %q has an empty or over-long label", d)
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Errorf("domain %q has a label starting or ending with '-'", d)
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return fmt.Errorf("domain %q contains %q; write internationalised names in their xn-- form", d, r)
			}
		}
	}
	return nil
}

// ValidateEmail checks a bare e-mail address (no display name).
func ValidateEmail(e string) error {
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || a.Name != "" {
		return fmt.Errorf("not a valid e-mail address: %q", e)
	}
	return nil
}

// ParseASN accepts "64496", "AS64496" or "as64496".
func ParseASN(s string) (uint32, error) {
	t := strings.TrimSpace(s)
	if len(t) > 2 && strings.EqualFold(t[:2], "AS") {
		t = t[2:]
	}
	n, err := strconv.ParseUint(t, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("not an AS number: %q", s)
	}
	return uint32(n), nil
}

// ParsePrefix accepts a CIDR, or a bare address as a host route.
func ParsePrefix(s string) (netip.Prefix, error) {
	t := strings.TrimSpace(s)
	if strings.Contains(t, "/") {
		p, err := netip.ParsePrefix(t)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("not a network in CIDR form: %q", s)
		}
		return p, nil
	}
	a, err := netip.ParseAddr(t)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("not a network in CIDR form: %q", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}
