package stixfeed

import (
	"strings"

	"focal/internal/focal"
)

type rsit struct{ class, typ string }

// specificLabels name what an indicator is; they win over the generic
// words of STIX's indicator-type vocabulary.
var specificLabels = map[string]rsit{
	"phishing":              {"fraud", "phishing"},
	"c2":                    {"malicious-code", "c2-server"},
	"c2-server":             {"malicious-code", "c2-server"},
	"c&c":                   {"malicious-code", "c2-server"},
	"cnc":                   {"malicious-code", "c2-server"},
	"command-and-control":   {"malicious-code", "c2-server"},
	"botnet":                {"malicious-code", "c2-server"},
	"botnet-cc":             {"malicious-code", "c2-server"},
	"malware-distribution":  {"malicious-code", "malware-distribution"},
	"malware-download":      {"malicious-code", "malware-distribution"},
	"payload-delivery":      {"malicious-code", "malware-distribution"},
	"exploit-kit":           {"malicious-code", "malware-distribution"},
	"malware-configuration": {"malicious-code", "malware-configuration"},
	"infected":              {"malicious-code", "infected-system"},
	"infected-system":       {"malicious-code", "infected-system"},
	"sinkhole":              {"malicious-code", "infected-system"},
	"compromised":           {"intrusions", "system-compromise"},
	"scanner":               {"information-gathering", "scanner"},
	"scanning":              {"information-gathering", "scanner"},
	"brute-force":           {"intrusion-attempts", "brute-force"},
	"bruteforce":            {"intrusion-attempts", "brute-force"},
	"spam":                  {"abusive-content", "spam"},
	"ddos":                  {"availability", "ddos"},
}

// genericLabels are STIX's indicator-type vocabulary words (and "malware").
var genericLabels = map[string]rsit{
	"malicious-activity": {"malicious-code", "c2-server"},
	"malware":            {"malicious-code", "c2-server"},
	"anomalous-activity": {"other", "other"},
	"anonymization":      {"other", "other"},
	"attribution":        {"other", "other"},
	"unknown":            {"other", "undetermined"},
}

// Classify maps STIX labels and indicator_types to an RSIT class and
// type. An RSIT machine tag (rsit:class="type") wins, then a specific
// word (phishing, c2, botnet, malware-distribution, scanner, compromised
// …), then a generic one (malicious-activity, anomalous-activity …); the
// first label of the best kind decides. With none of them the result is
// other/undetermined, and benign reports that the only known label was
// "benign".
func Classify(labels []string) (class, typ string, benign bool) {
	best, rank := rsit{"other", "undetermined"}, 3
	for _, l := range labels {
		n := strings.ToLower(strings.TrimSpace(l))
		if c, ok := machineTag(n); ok {
			return c.class, c.typ, false
		}
		n = strings.NewReplacer(" ", "-", "_", "-").Replace(n)
		if c, ok := specificLabels[n]; ok && rank > 1 {
			best, rank = c, 1
		}
		if c, ok := genericLabels[n]; ok && rank > 2 {
			best, rank = c, 2
		}
		if n == "benign" && rank == 3 {
			benign = true
		}
	}
	return best.class, best.typ, benign && rank == 3
}

// machineTag reads rsit:class="type".
func machineTag(s string) (rsit, bool) {
	rest, ok := strings.CutPrefix(s, "rsit:")
	if !ok {
		return rsit{}, false
	}
	class, typ, ok := strings.Cut(rest, "=")
	if !ok {
		return rsit{}, false
	}
	class, typ = strings.TrimSpace(class), strings.Trim(strings.TrimSpace(typ), `"`)
	if typ == "" {
		return rsit{}, false
	}
	if _, _, ok := focal.LookupRSIT(class, typ); !ok {
		return rsit{}, false
	}
	return rsit{class, typ}, true
}
