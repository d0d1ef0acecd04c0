package assess

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"

	"focal/internal/focal"
)

// locErr is a validation problem at a JSON path, before its byte offset
// is known.
type locErr struct {
	path string
	msg  string
}

func (e *locErr) Error() string { return e.path + ": " + e.msg }

func bad(path, format string, args ...any) error {
	return &locErr{path: path, msg: fmt.Sprintf(format, args...)}
}

// locate turns a locErr into an EINVALID focal error whose field is the
// JSON path and the byte offset of the value in data.
func locate(data []byte, err error) error {
	var le *locErr
	if !errors.As(err, &le) {
		return err
	}
	field := le.path
	if off, ok := offsets(data)[le.path]; ok {
		field = fmt.Sprintf("%s (byte %d)", le.path, off)
	}
	return focal.FieldErrorf(field, "%s", le.msg)
}

func asErr[T error](err error, target *T) bool { return errors.As(err, target) }

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// validate checks the framework's structure and builds its indexes.
func (f *Framework) validate() error {
	if !idPattern.MatchString(f.ID) {
		return bad("id", "want 1–64 letters, digits, dots, dashes or underscores, got %q", f.ID)
	}
	if !idPattern.MatchString(f.Version) {
		return bad("version", "want 1–64 letters, digits, dots, dashes or underscores, got %q", f.Version)
	}
	if strings.TrimSpace(f.Title) == "" {
		return bad("title", "a framework needs a title")
	}
	if _, ok := methods[f.Method]; !ok {
		return bad("method", "unknown scoring method %q; want one of %s", f.Method, strings.Join(MethodNames(), ", "))
	}
	if f.Total == 0 {
		f.Total = 100
	}
	if f.Total < 0 {
		return bad("total", "must be positive")
	}
	for i, t := range f.Tiers {
		if t.Name == "" {
			return bad(fmt.Sprintf("tiers[%d].name", i), "a tier needs a name")
		}
	}
	f.scales = map[string]*Scale{}
	for i := range f.Scales {
		s := &f.Scales[i]
		p := fmt.Sprintf("scales[%d]", i)
		if !idPattern.MatchString(s.ID) {
			return bad(p+".id", "want a short identifier, got %q", s.ID)
		}
		if f.scales[s.ID] != nil {
			return bad(p+".id", "scale %q is defined twice", s.ID)
		}
		f.scales[s.ID] = s
		if err := s.validate(p); err != nil {
			return err
		}
	}
	f.byID = map[string]*Item{}
	f.children = map[string][]*Item{}
	for i := range f.Items {
		it := &f.Items[i]
		p := fmt.Sprintf("items[%d]", i)
		if !idPattern.MatchString(it.ID) {
			return bad(p+".id", "want a short identifier, got %q", it.ID)
		}
		if f.byID[it.ID] != nil {
			return bad(p+".id", "item %q is defined twice", it.ID)
		}
		f.byID[it.ID] = it
	}
	index := map[string]int{}
	for i := range f.Items {
		index[f.Items[i].ID] = i
	}
	for i := range f.Items {
		it := &f.Items[i]
		p := fmt.Sprintf("items[%d]", i)
		switch it.Kind {
		case KindPillar, KindDimension, KindIndicator, KindFactor, KindQuestion:
		default:
			return bad(p+".kind", "unknown kind %q; want pillar, dimension, indicator, factor or question", it.Kind)
		}
		if strings.TrimSpace(it.Title) == "" {
			return bad(p+".title", "item %q needs a title", it.ID)
		}
		if it.Parent != "" {
			parent := f.byID[it.Parent]
			if parent == nil {
				return bad(p+".parent", "no item %q", it.Parent)
			}
			if parent.Kind == KindQuestion {
				return bad(p+".parent", "item %q is a question; questions have no children", it.Parent)
			}
		}
		// A cycle: following parents comes back to this item.
		seen := map[string]bool{it.ID: true}
		chain := []string{it.ID}
		for cur := it; cur.Parent != ""; {
			next := f.byID[cur.Parent]
			chain = append(chain, next.ID)
			if seen[next.ID] {
				return bad(p+".parent", "cycle: %s", strings.Join(chain, " → "))
			}
			seen[next.ID] = true
			cur = next
		}
		if it.Weight != nil && (*it.Weight < 0 || math.IsInf(*it.Weight, 0) || math.IsNaN(*it.Weight)) {
			return bad(p+".weight", "must be zero or positive")
		}
		if it.Kind == KindQuestion {
			if it.Scale == "" {
				return bad(p, "question %q has no scale", it.ID)
			}
			s := f.scales[it.Scale]
			if s == nil {
				return bad(p+".scale", "no scale %q", it.Scale)
			}
			if it.Metric != "" {
				if _, ok := metrics[it.Metric]; !ok {
					return bad(p+".metric", "unknown metric %q; want one of %s", it.Metric, strings.Join(MetricNames(), ", "))
				}
				if metrics[it.Metric].NeedsClass && it.MetricClass == "" {
					return bad(p+".metric_class", "metric %q needs an RSIT class", it.Metric)
				}
				if s.Type != ScaleNumber {
					return bad(p+".scale", "a measured question needs a number scale, %q is a %s scale", it.Scale, s.Type)
				}
			}
			if f.Method == MethodStageGate {
				if it.Stage < 1 || it.Stage > len(f.Stages) {
					return bad(p+".stage", "want a stage from 1 to %d", len(f.Stages))
				}
			}
			if it.Parent == "" {
				return bad(p+".parent", "a question must belong to a group")
			}
		} else {
			if it.Scale != "" {
				return bad(p+".scale", "only questions have a scale")
			}
			if it.Metric != "" {
				return bad(p+".metric", "only questions are measured")
			}
		}
		for j, l := range it.Crosswalk {
			lp := fmt.Sprintf("%s.crosswalk[%d]", p, j)
			if l.Framework == "" || l.Version == "" || l.Item == "" {
				return bad(lp, "a link needs a framework, a version and an item")
			}
			switch l.Relation {
			case RelEquivalent, RelBroader, RelNarrower, RelPartial:
			default:
				return bad(lp+".relation", "unknown relation %q; want equivalent, broader, narrower or partial", l.Relation)
			}
			if l.Framework == f.ID && l.Version == f.Version {
				return bad(lp, "a crosswalk links to another framework or version, not to this one")
			}
		}
		f.children[it.Parent] = append(f.children[it.Parent], it)
	}
	if len(f.children[""]) == 0 {
		return bad("items", "a framework needs at least one top-level item")
	}
	for i := range f.Items {
		it := &f.Items[i]
		p := fmt.Sprintf("items[%d]", i)
		kids := f.children[it.ID]
		if it.Kind != KindQuestion && len(kids) == 0 {
			return bad(p, "group %q has no items", it.ID)
		}
		if it.WeightSum != nil {
			var sum float64
			for _, k := range kids {
				sum += k.weight()
			}
			if math.Abs(sum-*it.WeightSum) > 1e-9 {
				return bad(p+".weight_sum", "the weights of %q's items sum to %s, declared %s", it.ID, num(sum), num(*it.WeightSum))
			}
		}
		if it.Max < 0 {
			return bad(p+".max", "must be zero or positive")
		}
		if it.Parent != "" && it.Max != 0 {
			return bad(p+".max", "only top-level items have a maximum")
		}
	}
	if f.Method == MethodWeightedSum {
		tops := f.children[""]
		var sum float64
		set := 0
		for _, t := range tops {
			sum += t.Max
			if t.Max > 0 {
				set++
			}
		}
		switch {
		case set == 0:
			for _, t := range tops {
				t.Max = f.Total / float64(len(tops))
			}
		case set != len(tops):
			for _, t := range tops {
				if t.Max == 0 {
					return bad(fmt.Sprintf("items[%d].max", index[t.ID]), "set every top-level maximum or none")
				}
			}
		case math.Abs(sum-f.Total) > 1e-9:
			return bad("total", "the top-level maxima sum to %s, the total is %s", num(sum), num(f.Total))
		}
	}
	if f.Method == MethodStageGate && len(f.Stages) < 2 {
		return bad("stages", "a stage-gate framework names at least two stages")
	}
	return nil
}

func (s *Scale) validate(p string) error {
	switch s.Type {
	case ScaleChoice, ScaleStage:
		if len(s.Options) < 2 {
			return bad(p+".options", "a %s scale needs at least two options", s.Type)
		}
		seen := map[string]bool{}
		for j := range s.Options {
			o := &s.Options[j]
			op := fmt.Sprintf("%s.options[%d]", p, j)
			if o.Value == "" || o.Value == ValueNA {
				return bad(op+".value", "want a value other than %q and empty", ValueNA)
			}
			if seen[o.Value] {
				return bad(op+".value", "option %q is listed twice", o.Value)
			}
			seen[o.Value] = true
			if s.Type == ScaleStage {
				o.Score = float64(j) / float64(len(s.Options)-1)
			} else if o.Score < 0 || o.Score > 1 {
				return bad(op+".score", "want a fraction from 0 to 1, got %s", num(o.Score))
			}
		}
	case ScalePoints:
		if s.Max <= 0 || s.Max != math.Trunc(s.Max) {
			return bad(p+".max", "a points scale needs a whole positive maximum")
		}
	case ScaleNumber:
		if s.Max == s.Min {
			return bad(p+".max", "a number scale needs a maximum different from its minimum")
		}
	default:
		return bad(p+".type", "unknown scale type %q; want choice, stage, points or number", s.Type)
	}
	return nil
}

// num formats a float without trailing zeros.
func num(v float64) string {
	s := fmt.Sprintf("%.4f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" {
		return "0"
	}
	return s
}

// offsets maps the JSON path of every value in data ("$" for the root,
// then "items[3].scale") to the byte offset where the value starts.
func offsets(data []byte) map[string]int64 {
	type frame struct {
		path      string
		arr       bool
		idx       int
		key       string
		expectKey bool
	}
	out := map[string]int64{}
	dec := json.NewDecoder(bytes.NewReader(data))
	var stack []*frame
	join := func(parent, child string) string {
		if parent == "$" {
			return child
		}
		return parent + "." + child
	}
	valuePath := func() string {
		if len(stack) == 0 {
			return "$"
		}
		top := stack[len(stack)-1]
		if top.arr {
			if top.path == "$" {
				return fmt.Sprintf("[%d]", top.idx)
			}
			return fmt.Sprintf("%s[%d]", top.path, top.idx)
		}
		return join(top.path, top.key)
	}
	afterValue := func() {
		if len(stack) == 0 {
			return
		}
		top := stack[len(stack)-1]
		if top.arr {
			top.idx++
		} else {
			top.expectKey = true
		}
	}
	for {
		off := dec.InputOffset()
		for off < int64(len(data)) && strings.IndexByte(" \t\r\n:,", data[off]) >= 0 {
			off++
		}
		tok, err := dec.Token()
		if err != nil {
			return out
		}
		if len(stack) > 0 {
			top := stack[len(stack)-1]
			if !top.arr && top.expectKey {
				if d, ok := tok.(json.Delim); ok && d == '}' {
					stack = stack[:len(stack)-1]
					afterValue()
					continue
				}
				top.key, _ = tok.(string)
				top.expectKey = false
				continue
			}
		}
		if d, ok := tok.(json.Delim); ok && (d == ']' || d == '}') {
			stack = stack[:len(stack)-1]
			afterValue()
			continue
		}
		p := valuePath()
		out[p] = off
		if d, ok := tok.(json.Delim); ok {
			stack = append(stack, &frame{path: p, arr: d == '[', expectKey: d == '{'})
			continue
		}
		afterValue()
	}
}

// pathAt returns the path of the last value that starts at or before off.
func pathAt(data []byte, off int64) string {
	best, bestOff := "$", int64(-1)
	for p, o := range offsets(data) {
		if o <= off && (o > bestOff || o == bestOff && len(p) > len(best)) {
			best, bestOff = p, o
		}
	}
	return best
}

// findKey returns the first path (by offset) whose last key is name.
func findKey(data []byte, name string) (string, int64) {
	var paths []string
	offs := offsets(data)
	for p := range offs {
		if p == name || strings.HasSuffix(p, "."+name) {
			paths = append(paths, p)
		}
	}
	if len(paths) == 0 {
		return "$", 0
	}
	sort.Slice(paths, func(i, j int) bool { return offs[paths[i]] < offs[paths[j]] })
	return paths[0], offs[paths[0]]
}
