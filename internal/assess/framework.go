// Package assess is focal's readiness-assessment engine: frameworks as
// versioned JSON data (a tree of pillars, indicators and questions, each
// question on a scale, with weights and crosswalk links to other
// frameworks), the scoring methods that turn answers into an explained,
// ruler-stamped score, target definitions and progress toward them, the
// metrics focal measures itself, and the SVG charts that show them.
//
// The package holds no state and imports nothing internal but focal; its
// only I/O is reading its embedded frameworks and the evidence-link
// checker (LinkChecker), which fetches URLs through an injected client.
// The store keeps frameworks, answers and scores; this package decides
// what they mean. Every function is safe for concurrent use.
package assess

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"focal/internal/focal"
)

// The kinds of framework item. Questions are the leaves that get answers;
// every other kind groups items (pillars and dimensions at the top,
// indicators or factors below).
const (
	KindPillar    = "pillar"
	KindDimension = "dimension"
	KindIndicator = "indicator"
	KindFactor    = "factor"
	KindQuestion  = "question"
)

// The types of scale.
const (
	ScaleChoice = "choice" // named options, each worth a fraction (yes/partial/no)
	ScaleStage  = "stage"  // ordinal stages, worth rank ÷ (stages − 1)
	ScalePoints = "points" // a whole number of points from 0 to Max
	ScaleNumber = "number" // a measured number, scaled linearly between Min and Max
)

// MaxFrameworkBytes bounds a framework file.
const MaxFrameworkBytes = 1 << 20

// Framework is one version of an assessment instrument. Once an
// assessment uses a version it never changes (the store refuses a
// different body under the same id and version); a change is a new
// version, linked to the old one by crosswalks.
type Framework struct {
	ID          string `json:"id"`      // stable key, e.g. "focal-national"
	Version     string `json:"version"` // e.g. "1.0"
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	Licence     string `json:"licence,omitempty"`
	// Method is the default scoring method (MethodWeightedSum…).
	Method string `json:"method"`
	// Total is what the weighted sum adds up to (100 by default); each
	// top-level item's Max is its share.
	Total float64 `json:"total,omitempty"`
	// Stages names the ordinal stages of a stage-gate framework, lowest
	// first.
	Stages []string `json:"stages,omitempty"`
	// Tiers map a total score to a named tier, highest threshold first.
	Tiers  []Tier  `json:"tiers,omitempty"`
	Scales []Scale `json:"scales"`
	Items  []Item  `json:"items"`

	// Hash is the SHA-256 of the canonical body; set by Parse.
	Hash string `json:"-"`

	byID     map[string]*Item
	children map[string][]*Item
	scales   map[string]*Scale
}

// Tier is a named band of total scores: scores from Min up belong to it
// unless a higher tier takes them.
type Tier struct {
	Name string  `json:"name"`
	Min  float64 `json:"min"`
}

// Scale is how a question is answered and what each answer is worth, as
// a fraction from 0 to 1.
type Scale struct {
	ID      string   `json:"id"`
	Type    string   `json:"type"`
	Options []Option `json:"options,omitempty"` // choice and stage scales
	Min     float64  `json:"min,omitempty"`     // number scales
	Max     float64  `json:"max,omitempty"`     // points and number scales
	// LowerIsBetter inverts a number scale (e.g. time to resolve).
	LowerIsBetter bool   `json:"lower_is_better,omitempty"`
	Unit          string `json:"unit,omitempty"`
}

// Option is one answer of a choice or stage scale.
type Option struct {
	Value string  `json:"value"`
	Label string  `json:"label,omitempty"`
	Score float64 `json:"score"` // fraction 0–1; stage scales compute it from the rank
}

// Item is one node of a framework's tree.
type Item struct {
	ID     string `json:"id"`
	Parent string `json:"parent,omitempty"` // "" for a top-level item
	Kind   string `json:"kind"`
	Title  string `json:"title"`
	Text   string `json:"text,omitempty"` // the question asked, or the group's scope
	Help   string `json:"help,omitempty"` // what counts as evidence
	// Weight is the item's weight among its siblings (1 when omitted);
	// in the fulfilment method a question's weight is its points.
	Weight *float64 `json:"weight,omitempty"`
	// WeightSum, on a group, declares what its children's weights sum to;
	// validation checks it.
	WeightSum *float64 `json:"weight_sum,omitempty"`
	// Max is a top-level item's share of the weighted-sum total (e.g. 20).
	Max float64 `json:"max,omitempty"`
	// Scale names the scale of a question.
	Scale string `json:"scale,omitempty"`
	// Stage is the 1-based stage a question's criterion belongs to in a
	// stage-gate framework.
	Stage int `json:"stage,omitempty"`
	// Optional marks a question that category mean ignores (it does not
	// count toward the score).
	Optional bool `json:"optional,omitempty"`
	// Metric binds a question to a metric focal measures (see Metrics).
	Metric string `json:"metric,omitempty"`
	// MetricClass is the RSIT class of a metric that takes one.
	MetricClass string `json:"metric_class,omitempty"`
	// Crosswalk links the item to items of other frameworks or versions.
	Crosswalk []Link `json:"crosswalk,omitempty"`
	// Module tags the item as part of a separable module (e.g. "cop").
	Module string `json:"module,omitempty"`
}

// The relations of a crosswalk link.
const (
	RelEquivalent = "equivalent"
	RelBroader    = "broader"
	RelNarrower   = "narrower"
	RelPartial    = "partial"
)

// Link points from an item to an item of another framework or version.
// Only equivalent links carry answers across versions.
type Link struct {
	Framework string `json:"framework"`
	Version   string `json:"version"`
	Item      string `json:"item"`
	Relation  string `json:"relation"`
}

// Ref names a framework version.
func (f *Framework) Ref() string { return f.ID + "@" + f.Version }

// Item returns the item with id, or nil.
func (f *Framework) Item(id string) *Item { return f.byID[id] }

// Children returns the children of the item with id ("" for the top level),
// in file order.
func (f *Framework) Children(id string) []*Item { return f.children[id] }

// ScaleOf returns the scale of question q, or nil.
func (f *Framework) ScaleOf(q *Item) *Scale { return f.scales[q.Scale] }

// Questions returns every question in file order.
func (f *Framework) Questions() []*Item {
	var out []*Item
	var walk func(parent string)
	walk = func(parent string) {
		for _, it := range f.children[parent] {
			if it.Kind == KindQuestion {
				out = append(out, it)
			}
			walk(it.ID)
		}
	}
	walk("")
	return out
}

// Top returns the item's top-level ancestor (itself for a top-level item).
func (f *Framework) Top(id string) *Item {
	it := f.byID[id]
	for it != nil && it.Parent != "" {
		it = f.byID[it.Parent]
	}
	return it
}

// weight returns an item's weight, 1 when unset.
func (it *Item) weight() float64 {
	if it.Weight == nil {
		return 1
	}
	return *it.Weight
}

// EffectiveWeight returns the item's weight among its siblings.
func (it *Item) EffectiveWeight() float64 { return it.weight() }

// TierOf names the tier of a total score, or "" when the framework has none.
func (f *Framework) TierOf(score float64) string {
	best, name := -1.0, ""
	for _, t := range f.Tiers {
		if score >= t.Min && t.Min > best {
			best, name = t.Min, t.Name
		}
	}
	return name
}

// Weights returns every item's weight by id, for the ruler stamp.
func (f *Framework) Weights() map[string]float64 {
	out := make(map[string]float64, len(f.Items))
	for i := range f.Items {
		out[f.Items[i].ID] = f.Items[i].weight()
	}
	return out
}

// Parse decodes, validates and indexes a framework file. Errors are
// EINVALID with the JSON path of the problem and its byte offset in
// data, e.g. `items[12].scale (byte 4711): no scale "ynp2"`.
func Parse(data []byte) (*Framework, error) {
	if len(data) > MaxFrameworkBytes {
		return nil, focal.Errorf(focal.ETOOLARGE, "framework larger than %d bytes", MaxFrameworkBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f Framework
	if err := dec.Decode(&f); err != nil {
		return nil, decodeError(data, err)
	}
	if dec.More() {
		return nil, focal.FieldErrorf(fmt.Sprintf("$ (byte %d)", dec.InputOffset()), "the file must hold exactly one JSON object")
	}
	if err := f.validate(); err != nil {
		return nil, locate(data, err)
	}
	canon, err := json.Marshal(&f)
	if err != nil {
		return nil, fmt.Errorf("parse framework: %w", err)
	}
	sum := sha256.Sum256(canon)
	f.Hash = hex.EncodeToString(sum[:])
	return &f, nil
}

// Canonical returns the framework's canonical JSON (what Hash covers).
func (f *Framework) Canonical() ([]byte, error) { return json.Marshal(f) }

// decodeError turns a JSON decoding error into an EINVALID error with a
// location.
func decodeError(data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case asErr(err, &syn):
		// Offset counts the bytes read, the offending one included.
		off := max(syn.Offset-1, 0)
		return focal.FieldErrorf(fmt.Sprintf("%s (byte %d)", pathAt(data, off), off), "malformed JSON: %v", syn)
	case asErr(err, &typ):
		// Offset is after the value: name the value's start.
		p := pathAt(data, max(typ.Offset-1, 0))
		return focal.FieldErrorf(fmt.Sprintf("%s (byte %d)", p, offsets(data)[p]), "want %s, got JSON %s", typ.Type, typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		p, off := findKey(data, name)
		return focal.FieldErrorf(fmt.Sprintf("%s (byte %d)", p, off), "unknown field %q", name)
	}
	return focal.FieldErrorf("$", "malformed JSON: %v", err)
}

// Frameworks returns the frameworks focal ships with, parsed, by Ref.
// They are embedded, so an error here is a build defect.
func Frameworks() ([]*Framework, error) {
	names, err := fs.Glob(embedded, "frameworks/*.json")
	if err != nil {
		return nil, fmt.Errorf("embedded frameworks: %w", err)
	}
	sort.Strings(names)
	var out []*Framework
	for _, n := range names {
		b, err := fs.ReadFile(embedded, n)
		if err != nil {
			return nil, fmt.Errorf("embedded framework %s: %w", n, err)
		}
		f, err := Parse(b)
		if err != nil {
			return nil, fmt.Errorf("embedded framework %s: %w", path.Base(n), err)
		}
		out = append(out, f)
	}
	return out, nil
}

// EmbeddedFile returns the raw bytes of an embedded framework file by
// base name (e.g. "national-1.0.json").
func EmbeddedFile(name string) ([]byte, error) {
	return fs.ReadFile(embedded, "frameworks/"+name)
}

//go:embed frameworks/*.json
var embedded embed.FS
