package focal

import (
	"fmt"
	"strings"
)

// TLP is a Traffic Light Protocol 2.0 label. The zero value means "not
// labelled"; callers decide the default (focal treats unlabelled shared data
// as AMBER).
type TLP string

// The TLP 2.0 labels, from least to most restricted.
const (
	TLPClear       TLP = "CLEAR"
	TLPGreen       TLP = "GREEN"
	TLPAmber       TLP = "AMBER"
	TLPAmberStrict TLP = "AMBER+STRICT"
	TLPRed         TLP = "RED"
)

// TLPs lists the labels from least to most restricted.
var TLPs = []TLP{TLPClear, TLPGreen, TLPAmber, TLPAmberStrict, TLPRed}

// ParseTLP accepts a label with or without the "TLP:" prefix, in any case,
// and the TLP 1.0 name WHITE for CLEAR.
func ParseTLP(s string) (TLP, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	u = strings.TrimPrefix(u, "TLP:")
	if u == "WHITE" {
		return TLPClear, nil
	}
	for _, t := range TLPs {
		if string(t) == u {
			return t, nil
		}
	}
	return "", FieldErrorf("tlp", "unknown TLP label %q: want CLEAR, GREEN, AMBER, AMBER+STRICT or RED", s)
}

// Rank orders labels: CLEAR 0 … RED 4, and -1 for an unknown label.
func (t TLP) Rank() int {
	for i, l := range TLPs {
		if l == t {
			return i
		}
	}
	return -1
}

// String returns the label in its marking form, e.g. "TLP:AMBER".
func (t TLP) String() string {
	if t == "" {
		return "TLP:unlabelled"
	}
	return fmt.Sprintf("TLP:%s", string(t))
}
