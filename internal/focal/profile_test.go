package focal

import (
	"strings"
	"testing"
)

func TestTeamProfileValidate(t *testing.T) {
	good := func() TeamProfile {
		return TeamProfile{Name: " CERT-EX ", Email: "cert@cert.example", Country: "fr", Website: "https://cert.example/",
			Services: []string{" Incident response ", "", "Alerts and warnings"}}
	}
	p := good()
	p.Normalize()
	if err := p.Validate(); err != nil {
		t.Fatalf("Validate(good) = %v", err)
	}
	if p.Name != "CERT-EX" || p.Country != "FR" || len(p.Services) != 2 || p.Services[0] != "Incident response" {
		t.Errorf("Normalize = %+v", p)
	}
	bad := []struct {
		field string
		edit  func(*TeamProfile)
	}{
		{"name", func(p *TeamProfile) { p.Name = "" }},
		{"email", func(p *TeamProfile) { p.Email = "" }},
		{"email", func(p *TeamProfile) { p.Email = "not an address" }},
		{"country", func(p *TeamProfile) { p.Country = "FRA" }},
		{"website", func(p *TeamProfile) { p.Website = "javascript:alert(1)" }},
		{"taxii", func(p *TeamProfile) { p.TAXII = "ftp://cert.example/taxii2/" }},
		{"mission", func(p *TeamProfile) { p.Mission = strings.Repeat("x", MaxProfileText+1) }},
	}
	for _, tt := range bad {
		p := good()
		tt.edit(&p)
		p.Normalize()
		err := p.Validate()
		if ErrorCode(err) != EINVALID {
			t.Errorf("Validate with bad %s = %v, want EINVALID", tt.field, err)
			continue
		}
		var fe *Error
		if e, ok := err.(*Error); ok {
			fe = e
		}
		if fe == nil || fe.Field != tt.field {
			t.Errorf("Validate with bad %s names field %v", tt.field, err)
		}
	}
}

// TestTeamProfileText renders every RFC 2350 section, in order, and says
// what is not stated instead of leaving it out.
func TestTeamProfileText(t *testing.T) {
	p := TeamProfile{Name: "CERT-EX", Email: "cert@cert.example", Constituency: "Networks of Exampleland\nand its ministries",
		Services: []string{"Incident response", "Vulnerability coordination"}}
	text := p.Text()
	last := -1
	for _, h := range []string{"1. Document Information", "2. Contact Information", "2.7 Electronic Mail Address", "3. Charter",
		"3.2 Constituency", "4. Policies", "5. Services", "6. Incident Reporting Forms", "7. Disclaimers"} {
		i := strings.Index(text, h)
		if i < 0 || i < last {
			t.Fatalf("section %q missing or out of order in:\n%s", h, text)
		}
		last = i
	}
	for _, want := range []string{"   cert@cert.example", "   Networks of Exampleland\n   and its ministries", "   - Vulnerability coordination", "(not stated)"} {
		if !strings.Contains(text, want) {
			t.Errorf("the text lacks %q", want)
		}
	}
}
