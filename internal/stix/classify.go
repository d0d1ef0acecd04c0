package stix

import (
	"strings"

	"focal/internal/focal"
)

// rsitLabel returns the label focal writes for a classification, the MISP
// machine tag of the RSIT taxonomy: rsit:class="type".
func rsitLabel(class, typ string) string {
	return "rsit:" + class + `="` + typ + `"`
}

// labelClass maps a label or indicator type to an RSIT class and type.
// specific says whether the word names what the indicator is (c2,
// phishing …) rather than a generic word of STIX's indicator-type-ov.
// This is the same table as package feed/stixfeed's.
func labelClass(word string) (class, typ string, specific, ok bool) {
	switch word {
	case "phishing":
		return "fraud", "phishing", true, true
	case "c2", "c2-server", "c&c", "cnc", "command-and-control", "botnet", "botnet-cc":
		return "malicious-code", "c2-server", true, true
	case "malware-distribution", "malware-download", "payload-delivery", "exploit-kit":
		return "malicious-code", "malware-distribution", true, true
	case "malware-configuration":
		return "malicious-code", "malware-configuration", true, true
	case "infected", "infected-system", "sinkhole":
		return "malicious-code", "infected-system", true, true
	case "compromised":
		return "intrusions", "system-compromise", true, true
	case "scanner", "scanning":
		return "information-gathering", "scanner", true, true
	case "brute-force", "bruteforce":
		return "intrusion-attempts", "brute-force", true, true
	case "spam":
		return "abusive-content", "spam", true, true
	case "ddos":
		return "availability", "ddos", true, true
	case "malicious-activity", "malware":
		return "malicious-code", "c2-server", false, true
	case "anomalous-activity", "anonymization", "attribution":
		return "other", "other", false, true
	case "unknown":
		return "other", "undetermined", false, true
	}
	return "", "", false, false
}

// Classify maps an object's x_focal_class and x_focal_type (when they
// name an RSIT class and type), else its labels and indicator types, to an
// RSIT class and type: an RSIT machine tag label (rsit:class="type") wins,
// then a specific word (phishing, c2, botnet, malware-distribution,
// scanner, compromised …), then a generic one (malicious-activity →
// malicious-code/c2-server, anomalous-activity → other/other, unknown →
// other/undetermined), the first of the best kind deciding. With none of
// them the result is other/undetermined; benign reports that "benign" was
// the only known word.
func Classify(c Common, words []string) (class, typ string, benign bool) {
	fc, _ := c.CustomString("x_focal_class")
	ft, _ := c.CustomString("x_focal_type")
	if fc != "" && ft != "" {
		if _, _, ok := focal.LookupRSIT(fc, ft); ok {
			return fc, ft, false
		}
	}
	class, typ, rank := "other", "undetermined", 3
	for _, l := range append(append([]string(nil), c.Labels...), words...) {
		n := strings.ToLower(strings.TrimSpace(l))
		if rest, ok := strings.CutPrefix(n, "rsit:"); ok {
			cl, ty, ok := strings.Cut(rest, "=")
			cl, ty = strings.TrimSpace(cl), strings.Trim(strings.TrimSpace(ty), `"`)
			if _, _, known := focal.LookupRSIT(cl, ty); ok && ty != "" && known {
				return cl, ty, false
			}
			continue
		}
		n = strings.NewReplacer(" ", "-", "_", "-").Replace(n)
		if cl, ty, specific, ok := labelClass(n); ok {
			r := 2
			if specific {
				r = 1
			}
			if r < rank {
				class, typ, rank = cl, ty, r
			}
		}
		if n == "benign" && rank == 3 {
			benign = true
		}
	}
	return class, typ, benign && rank == 3
}

// serverType reports whether an RSIT type's indicator is something victims
// connect to, which focal puts in an event's destination.
func serverType(typ string) bool {
	switch typ {
	case "c2-server", "malware-distribution", "malware-configuration", "phishing":
		return true
	}
	return false
}

// iocRole says whether FromEvent makes an indicator for an event of this
// classification, for which endpoint, and with which classification and
// indicator type.
func iocRole(class, typ string) (useDestination bool, iocClass, iocType, indicatorType string, ok bool) {
	switch {
	case class == "malicious-code" && serverType(typ):
		return true, class, typ, "malicious-activity", true
	case class == "fraud" && typ == "phishing":
		return true, class, typ, "malicious-activity", true
	case class == "malicious-code" && typ == "infected-system":
		// The infected host is a victim; what it talks to is a C2.
		return true, "malicious-code", "c2-server", "malicious-activity", true
	case class == "information-gathering" && typ == "scanner":
		return false, class, typ, "anomalous-activity", true
	case class == "intrusion-attempts", class == "abusive-content" && typ == "spam",
		class == "availability" && (typ == "dos" || typ == "ddos"):
		return false, class, typ, "malicious-activity", true
	}
	return false, "", "", "", false
}
