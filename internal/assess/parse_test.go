package assess_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"focal/internal/assess"
	"focal/internal/focal"
)

// badFrameworks are framework files with one defect each and the exact
// location the error must name.
var badFrameworks = []struct {
	name, file, field, msg string
}{
	{"cycle", `{"id":"x","version":"1","title":"X","method":"weighted-sum","scales":[{"id":"s","type":"choice","options":[{"value":"y","score":1},{"value":"n","score":0}]}],
"items":[{"id":"A","kind":"pillar","title":"A"},{"id":"B","parent":"C","kind":"indicator","title":"B"},{"id":"C","parent":"B","kind":"indicator","title":"C"},{"id":"q","parent":"A","kind":"question","title":"q","scale":"s"}]}`,
		"items[1].parent (byte 226)", "cycle: B → C → B"},
	{"missing-scale", `{"id":"x","version":"1","title":"X","method":"weighted-sum","scales":[],
"items":[{"id":"A","kind":"pillar","title":"A"},{"id":"q","parent":"A","kind":"question","title":"q"}]}`,
		"items[1] (byte 121)", `question "q" has no scale`},
	{"unknown-scale", `{"id":"x","version":"1","title":"X","method":"weighted-sum","scales":[],
"items":[{"id":"A","kind":"pillar","title":"A"},{"id":"q","parent":"A","kind":"question","title":"q","scale":"ynp"}]}`,
		"items[1].scale (byte 182)", `no scale "ynp"`},
	{"weights-do-not-sum", `{"id":"x","version":"1","title":"X","method":"weighted-sum","scales":[{"id":"s","type":"choice","options":[{"value":"y","score":1},{"value":"n","score":0}]}],
"items":[{"id":"A","kind":"pillar","title":"A","weight_sum":1},{"id":"q","parent":"A","kind":"question","title":"q","scale":"s","weight":0.6},{"id":"r","parent":"A","kind":"question","title":"r","scale":"s","weight":0.3}]}`,
		"items[0].weight_sum (byte 219)", "sum to 0.9, declared 1"},
	{"maxima-do-not-sum", `{"id":"x","version":"1","title":"X","method":"weighted-sum","total":100,"scales":[{"id":"s","type":"choice","options":[{"value":"y","score":1},{"value":"n","score":0}]}],
"items":[{"id":"A","kind":"pillar","title":"A","max":20},{"id":"q","parent":"A","kind":"question","title":"q","scale":"s"}]}`,
		"total (byte 68)", "sum to 20, the total is 100"},
	{"score-out-of-range", `{"id":"x","version":"1","title":"X","method":"fulfilment","scales":[{"id":"s","type":"choice","options":[{"value":"y","score":2},{"value":"n","score":0}]}],
"items":[{"id":"A","kind":"pillar","title":"A"},{"id":"q","parent":"A","kind":"question","title":"q","scale":"s"}]}`,
		"scales[0].options[0].score (byte 126)", "want a fraction from 0 to 1"},
	{"unknown-field", `{"id":"x","version":"1","title":"X","method":"fulfilment","scales":[],
"items":[{"id":"A","kind":"pillar","title":"A","wieght":2}]}`,
		"items[0].wieght (byte 127)", `unknown field "wieght"`},
	{"wrong-type", `{"id":"x","version":"1","title":"X","method":"fulfilment","scales":[],
"items":[{"id":"A","kind":"pillar","title":"A","weight":"heavy"}]}`,
		"items[0].weight (byte 127)", "want float64"},
	{"syntax", `{"id":"x","version":"1",,}`, "version (byte 24)", "malformed JSON"},
	{"stage-missing", `{"id":"x","version":"1","title":"X","method":"stage-gate","stages":["a","b"],"scales":[{"id":"s","type":"choice","options":[{"value":"y","score":1},{"value":"n","score":0}]}],
"items":[{"id":"A","kind":"dimension","title":"A"},{"id":"q","parent":"A","kind":"question","title":"q","scale":"s"}]}`,
		"items[1].stage", "want a stage from 1 to 2"},
	{"bad-crosswalk", `{"id":"x","version":"1","title":"X","method":"fulfilment","scales":[{"id":"s","type":"choice","options":[{"value":"y","score":1},{"value":"n","score":0}]}],
"items":[{"id":"A","kind":"pillar","title":"A"},{"id":"q","parent":"A","kind":"question","title":"q","scale":"s","crosswalk":[{"framework":"o","version":"1","item":"q","relation":"same"}]}]}`,
		"items[1].crosswalk[0].relation (byte 336)", `unknown relation "same"`},
	{"unknown-metric", `{"id":"x","version":"1","title":"X","method":"fulfilment","scales":[{"id":"n","type":"number","max":100}],
"items":[{"id":"A","kind":"pillar","title":"A"},{"id":"q","parent":"A","kind":"question","title":"q","scale":"n","metric":"uptime"}]}`,
		"items[1].metric (byte 229)", `unknown metric "uptime"`},
}

func TestParseRejects(t *testing.T) {
	for _, tt := range badFrameworks {
		t.Run(tt.name, func(t *testing.T) {
			_, err := assess.Parse([]byte(tt.file))
			var fe *focal.Error
			if !asFocal(err, &fe) || fe.Code != focal.EINVALID {
				t.Fatalf("Parse(%s) = %v, want EINVALID", tt.name, err)
			}
			if !strings.HasPrefix(fe.Field, tt.field) || !strings.Contains(fe.Message, tt.msg) {
				t.Errorf("Parse(%s) = %q: %q, want %q: …%s…", tt.name, fe.Field, fe.Message, tt.field, tt.msg)
			}
		})
	}
}

func TestValidateAnswer(t *testing.T) {
	f := mustParse(t, small)
	tests := []struct {
		name  string
		a     assess.Answer
		field string
	}{
		{"wrong-scale", assess.Answer{Item: "q1", Value: "maybe"}, "answers[q1].value"},
		{"group", assess.Answer{Item: "P1", Value: "yes"}, "answers[P1].item"},
		{"unknown", assess.Answer{Item: "zz", Value: "yes"}, "answers[zz].item"},
		{"relative-url", assess.Answer{Item: "q1", Value: "yes", Evidence: assess.Evidence{URL: "/law.pdf"}}, "answers[q1].evidence.url"},
		{"unparsable-url", assess.Answer{Item: "q1", Value: "yes", Evidence: assess.Evidence{URL: "http://[::1"}}, "answers[q1].evidence.url"},
		{"ftp-url", assess.Answer{Item: "q1", Value: "yes", Evidence: assess.Evidence{URL: "ftp://gov.example/law"}}, "answers[q1].evidence.url"},
		{"bad-date", assess.Answer{Item: "q1", Value: "yes", Evidence: assess.Evidence{Date: "2025-13-01"}}, "answers[q1].evidence.date"},
		{"bad-visibility", assess.Answer{Item: "q1", Value: "yes", Evidence: assess.Evidence{URL: "https://a.example", Visibility: "secret"}}, "answers[q1].evidence.visibility"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := assess.ValidateAnswer(f, &tt.a)
			var fe *focal.Error
			if !asFocal(err, &fe) || fe.Field != tt.field {
				t.Errorf("ValidateAnswer(%s) = %v, want an error on %s", tt.name, err, tt.field)
			}
		})
	}
	ok := assess.Answer{Item: "q1", Value: "n/a", Evidence: assess.Evidence{URL: "https://gov.example/a", Date: "2025-06-01"}}
	if err := assess.ValidateAnswer(f, &ok); err != nil || ok.Evidence.Visibility != assess.VisibilityRestricted {
		t.Errorf("ValidateAnswer(n/a with evidence) = %v, visibility %q; want nil, restricted by default", err, ok.Evidence.Visibility)
	}
}

// FuzzParse checks Parse never panics and that what it accepts scores.
// Seeds: testdata/fuzz/FuzzParse, the bad frameworks and the shipped ones.
func FuzzParse(f *testing.F) {
	for _, tt := range badFrameworks {
		f.Add([]byte(tt.file))
	}
	f.Add([]byte(small))
	f.Add([]byte(gated))
	names, _ := filepath.Glob("frameworks/*.json")
	for _, n := range names {
		if b, err := os.ReadFile(n); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fw, err := assess.Parse(data)
		if err != nil {
			if focal.ErrorCode(err) == focal.EINTERNAL {
				t.Fatalf("Parse = internal error %v", err)
			}
			return
		}
		for _, m := range assess.MethodNames() {
			if m == assess.MethodStageGate && len(fw.Stages) < 2 {
				continue
			}
			if _, err := assess.Score(fw, nil, assess.Options{Method: m}); err != nil {
				t.Fatalf("Score(parsed, %s) = %v", m, err)
			}
		}
	})
}
