package app

import (
	"focal/internal/focal"
	"focal/internal/observable"
)

// extractObservables finds the indicators in report text, defanged ones
// included, as incident observables marked "extracted".
func extractObservables(text string) []focal.Observable {
	res := observable.Extract(text)
	out := make([]focal.Observable, 0, len(res.Observables))
	for _, o := range res.Observables {
		out = append(out, focal.Observable{Kind: string(o.Kind), Value: o.Value, Source: "extracted"})
	}
	return out
}
