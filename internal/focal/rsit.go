package focal

import (
	"fmt"
	"strings"
)

// RSITVersion is the version of the ENISA/TF-CSIRT Reference Security
// Incident Taxonomy that focal implements (machine tag namespace "rsit").
const RSITVersion = 1003

// RSITClass is a class of the taxonomy with its types.
type RSITClass struct {
	Value string     // machine value, e.g. "malicious-code"
	Name  string     // human name, e.g. "Malicious Code"
	Types []RSITType // the types of this class
}

// RSITType is a type within a class.
type RSITType struct {
	Value string // machine value, e.g. "c2-server"
	Name  string // human name
	Desc  string // one-line description
}

// RSIT is the taxonomy: 11 classes and their types. It is read-only.
var RSIT = []RSITClass{
	{"abusive-content", "Abusive Content", []RSITType{
		{"spam", "Spam", "unsolicited bulk e-mail and the infrastructure sending it"},
		{"harmful-speech", "Harmful Speech", "bullying, harassment, discrimination, threats"},
		{"violence", "(Child) Sexual Exploitation / Sexual / Violent Content", "child sexual exploitation material, sexual content, glorification of violence"},
	}},
	{"malicious-code", "Malicious Code", []RSITType{
		{"infected-system", "Infected System", "a host infected with malware"},
		{"c2-server", "C2 Server", "a command-and-control server"},
		{"malware-distribution", "Malware Distribution", "a URI used to distribute malware"},
		{"malware-configuration", "Malware Configuration", "a URI hosting malware configuration"},
	}},
	{"information-gathering", "Information Gathering", []RSITType{
		{"scanner", "Scanning", "scans or probes looking for weaknesses"},
		{"sniffing", "Sniffing", "observing and recording network traffic"},
		{"social-engineering", "Social Engineering", "gathering information from people by non-technical means"},
	}},
	{"intrusion-attempts", "Intrusion Attempts", []RSITType{
		{"ids-alert", "Exploitation of Known Vulnerabilities", "an attempt to exploit a known vulnerability"},
		{"brute-force", "Login Attempts", "guessing or brute-forcing credentials"},
		{"exploit", "New Attack Signature", "an attack with an unknown exploit"},
	}},
	{"intrusions", "Intrusions", []RSITType{
		{"privileged-account-compromise", "Privileged Account Compromise", "an administrator account taken over"},
		{"unprivileged-account-compromise", "Unprivileged Account Compromise", "a user account taken over"},
		{"application-compromise", "Application Compromise", "an application compromised, e.g. by SQL injection"},
		{"system-compromise", "System Compromise", "a system compromised"},
		{"burglary", "Burglary", "physical intrusion"},
	}},
	{"availability", "Availability", []RSITType{
		{"dos", "Denial of Service", "a denial-of-service attack"},
		{"ddos", "Distributed Denial of Service", "a distributed denial-of-service attack"},
		{"misconfiguration", "Misconfiguration", "an outage caused by misconfiguration"},
		{"sabotage", "Sabotage", "deliberate disruption"},
		{"outage", "Outage", "a non-malicious outage"},
	}},
	{"information-content-security", "Information Content Security", []RSITType{
		{"unauthorised-information-access", "Unauthorised Access to Information", "information read without authorisation"},
		{"unauthorised-information-modification", "Unauthorised Modification of Information", "information changed without authorisation, incl. ransomware and defacement"},
		{"data-loss", "Data Loss", "information lost"},
		{"data-leak", "Leak of Confidential Information", "confidential information disclosed, e.g. credentials or personal data"},
	}},
	{"fraud", "Fraud", []RSITType{
		{"unauthorised-use-of-resources", "Unauthorised Use of Resources", "resources used without authorisation"},
		{"copyright", "Copyright", "copyright infringement"},
		{"masquerade", "Masquerade", "impersonation"},
		{"phishing", "Phishing", "phishing"},
	}},
	{"vulnerable", "Vulnerable", []RSITType{
		{"weak-crypto", "Weak Cryptography", "weak cryptography in use"},
		{"ddos-amplifier", "DDoS Amplifier", "a service usable for DDoS amplification"},
		{"potentially-unwanted-accessible", "Potentially Unwanted Accessible Services", "a service exposed that should not be"},
		{"information-disclosure", "Information Disclosure", "a service disclosing information"},
		{"vulnerable-system", "Vulnerable System", "a system with a known vulnerability"},
	}},
	{"other", "Other", []RSITType{
		{"other", "Uncategorised", "does not fit another class"},
		{"undetermined", "Undetermined", "not yet classified"},
	}},
	{"test", "Test", []RSITType{
		{"test", "Test", "for testing"},
	}},
}

// Classification is one RSIT class and (optionally) type given to an
// incident or event, with an optional weight for statistics (0 = unweighted).
type Classification struct {
	Class  string  `json:"class"`
	Type   string  `json:"type,omitempty"`
	Weight float64 `json:"weight,omitempty"`
}

// LookupRSIT returns the class and type for machine values; typ may be "".
func LookupRSIT(class, typ string) (RSITClass, RSITType, bool) {
	for _, c := range RSIT {
		if c.Value != class {
			continue
		}
		if typ == "" {
			return c, RSITType{}, true
		}
		for _, t := range c.Types {
			if t.Value == typ {
				return c, t, true
			}
		}
		return c, RSITType{}, false
	}
	return RSITClass{}, RSITType{}, false
}

// Validate checks the classification against the taxonomy, accepting
// machine values in any case, and normalises them.
func (c *Classification) Validate() error {
	c.Class = strings.ToLower(strings.TrimSpace(c.Class))
	c.Type = strings.ToLower(strings.TrimSpace(c.Type))
	if _, _, ok := LookupRSIT(c.Class, ""); !ok {
		return FieldErrorf("classification.class", "unknown RSIT class %q", c.Class)
	}
	if _, _, ok := LookupRSIT(c.Class, c.Type); !ok {
		return FieldErrorf("classification.type", "%q is not a type of RSIT class %q", c.Type, c.Class)
	}
	if c.Weight < 0 || c.Weight > 1 {
		return FieldErrorf("classification.weight", "want a weight from 0 to 1, got %v", c.Weight)
	}
	return nil
}

// String renders "class/type" or "class".
func (c Classification) String() string {
	if c.Type == "" {
		return c.Class
	}
	return fmt.Sprintf("%s/%s", c.Class, c.Type)
}

// Restricted reports whether a classification is one whose content only
// specially granted handlers may see: child sexual abuse material and
// other violent or sexual content, and harmful speech.
func (c Classification) Restricted() bool {
	return c.Class == "abusive-content" && (c.Type == "violence" || c.Type == "harmful-speech")
}

// PAP is a Permissible Actions Protocol label.
type PAP string

// The PAP labels, least to most restrictive.
const (
	PAPClear PAP = "CLEAR"
	PAPGreen PAP = "GREEN"
	PAPAmber PAP = "AMBER"
	PAPRed   PAP = "RED"
)

// ParsePAP accepts a label with or without "PAP:", any case, and WHITE for CLEAR.
func ParsePAP(s string) (PAP, error) {
	u := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(s)), "PAP:")
	switch u {
	case "WHITE", "CLEAR":
		return PAPClear, nil
	case "GREEN", "AMBER", "RED":
		return PAP(u), nil
	}
	return "", FieldErrorf("pap", "unknown PAP label %q: want CLEAR, GREEN, AMBER or RED", s)
}

// Severity ranks how bad an incident is.
type Severity string

// The severities, least to most severe.
const (
	SeverityLow      Severity = "low"
	SeverityMedium   Severity = "medium"
	SeverityHigh     Severity = "high"
	SeverityCritical Severity = "critical"
)

// Severities lists the severities, least to most severe.
var Severities = []Severity{SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical}

// ParseSeverity accepts a severity name in any case.
func ParseSeverity(s string) (Severity, error) {
	v := Severity(strings.ToLower(strings.TrimSpace(s)))
	for _, x := range Severities {
		if x == v {
			return v, nil
		}
	}
	return "", FieldErrorf("severity", "unknown severity %q: want low, medium, high or critical", s)
}
