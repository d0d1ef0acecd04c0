package orgfile_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"focal/internal/focal"
	"focal/internal/orgfile"
)

// updateGolden, set in the environment, rewrites the golden files.
const updateGolden = "FOCAL_UPDATE_GOLDEN"

// readFile reads a file of testdata in the format its extension says.
func readFile(tb testing.TB, name string) (orgfile.Result, error) {
	tb.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	format, err := orgfile.DetectFormat(name)
	if err != nil {
		tb.Fatal(err)
	}
	return orgfile.Read(f, format)
}

// render shows a Result as text: the organisations as JSON, then the
// problems, one per line.
func render(tb testing.TB, res orgfile.Result) string {
	tb.Helper()
	var b bytes.Buffer
	if err := orgfile.WriteJSON(&b, res.Orgs); err != nil {
		tb.Fatal(err)
	}
	b.WriteString("# problems\n")
	for _, p := range res.Problems {
		b.WriteString(p.Error() + "\n")
	}
	return b.String()
}

func TestReadGolden(t *testing.T) {
	tests := []struct {
		file     string
		orgs     int
		problems int
	}{
		{"valid.json", 3, 0},
		{"valid.csv", 3, 0},
		{"bad.json", 2, 10},
		{"bad.csv", 2, 7},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			res, err := readFile(t, tt.file)
			if err != nil {
				t.Fatalf("Read(%s) = %v, want no error", tt.file, err)
			}
			if len(res.Orgs) != tt.orgs || len(res.Problems) != tt.problems {
				t.Errorf("Read(%s) = %d orgs, %d problems, want %d, %d", tt.file, len(res.Orgs), len(res.Problems), tt.orgs, tt.problems)
			}
			got := render(t, res)
			golden := filepath.Join("testdata", tt.file+".golden")
			if os.Getenv(updateGolden) == "1" {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with %s=1 to create it)", err, updateGolden)
			}
			if got != string(want) {
				t.Errorf("Read(%s) =\n%s\nwant (%s)\n%s", tt.file, got, golden, want)
			}
		})
	}
}

func TestReadProblems(t *testing.T) {
	type want struct {
		line, record int
		field, msg   string // msg: a part of the message
	}
	tests := []struct {
		file string
		want []want
	}{
		{"bad.json", []want{
			{6, 2, "networks[1]", `not a network in CIDR form: "198.51.100.0/33"`},
			{8, 3, "", `unknown field "foo"`},
			{11, 4, "contacts[1].email", `not a valid e-mail address: "Abuse <abuse@example.net>"`},
			{12, 4, "contacts[2].role", `unknown contact role "boss"`},
			{15, 5, "contacts[0]", `unknown field "colour"`},
			{18, 6, "asns[1]", "AS23456 is reserved"},
			{20, 7, "domains", "want a list, got a string"},
			{21, 8, "", "want an object, got a string"},
			{22, 9, "name", "also the name of record 1 (line 2)"},
			{24, 10, "sector", `unknown sector "pirates"`},
		}},
		{"bad.csv", []want{
			{3, 0, "networks", `not a network in CIDR form: "198.51.100.0/33"`},
			{4, 0, "asns", `not an AS number: "ASX"`},
			{4, 0, "domains", `"exa_mple.org" contains '_'`},
			{4, 0, "contacts", `not a valid e-mail address: "not-an-address"`},
			{4, 0, "sector", `unknown sector "pirates"`},
			{5, 0, "", "8 fields, want 7 as in the header"},
			{6, 0, "name", "also the name on line 2"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			res, err := readFile(t, tt.file)
			if err != nil {
				t.Fatal(err)
			}
			for i := range max(len(res.Problems), len(tt.want)) {
				if i >= len(res.Problems) {
					t.Errorf("Read(%s) problem %d = none, want %+v", tt.file, i, tt.want[i])
					continue
				}
				p := res.Problems[i]
				if i >= len(tt.want) {
					t.Errorf("Read(%s) problem %d = %v, want none", tt.file, i, p)
					continue
				}
				w := tt.want[i]
				if p.Line != w.line || p.Record != w.record || p.Field != w.field || !strings.Contains(p.Message, w.msg) {
					t.Errorf("Read(%s) problem %d = %#v, want line %d, record %d, field %q, message with %q", tt.file, i, p, w.line, w.record, w.field, w.msg)
				}
			}
		})
	}
}

func TestProblemError(t *testing.T) {
	tests := []struct {
		name string
		in   orgfile.Problem
		want string
	}{
		{"csv", orgfile.Problem{Line: 4, Field: "networks", Message: `not a network in CIDR form: "198.51.100.0/33"`},
			`line 4: networks: not a network in CIDR form: "198.51.100.0/33"`},
		{"json", orgfile.Problem{Line: 17, Record: 3, Message: `unknown field "foo"`}, `record 3 (line 17): unknown field "foo"`},
		{"json-field", orgfile.Problem{Line: 9, Record: 2, Field: "asns[0]", Message: "AS0 is reserved"}, "record 2 (line 9): asns[0]: AS0 is reserved"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.in.Error(); got != tt.want {
				t.Errorf("Error(%#v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// roundTrip writes orgs in format and reads them back.
func roundTrip(tb testing.TB, orgs []*focal.Organisation, format string) (orgfile.Result, []byte) {
	tb.Helper()
	var b bytes.Buffer
	write := orgfile.WriteJSON
	if format == orgfile.CSV {
		write = orgfile.WriteCSV
	}
	if err := write(&b, orgs); err != nil {
		tb.Fatalf("write %s: %v", format, err)
	}
	out := bytes.Clone(b.Bytes())
	res, err := orgfile.Read(&b, format)
	if err != nil {
		tb.Fatalf("read back %s: %v\n%s", format, err, out)
	}
	return res, out
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		file, format string
	}{
		{"valid.json", orgfile.JSON},
		{"valid.csv", orgfile.CSV},
		{"bad.json", orgfile.JSON},
		{"bad.csv", orgfile.CSV},
		{"valid.csv", orgfile.JSON},
	}
	for _, tt := range tests {
		t.Run(tt.file+"-as-"+tt.format, func(t *testing.T) {
			res, err := readFile(t, tt.file)
			if err != nil {
				t.Fatal(err)
			}
			back, out := roundTrip(t, res.Orgs, tt.format)
			if len(back.Problems) > 0 {
				t.Errorf("Read(Write(%s)) problems = %v, want none\n%s", tt.file, back.Problems, out)
			}
			if !reflect.DeepEqual(back.Orgs, res.Orgs) {
				t.Errorf("Read(Write(%s)) = %s, want %s", tt.file, render(t, back), render(t, res))
			}
			_, again := roundTrip(t, back.Orgs, tt.format)
			if !bytes.Equal(again, out) {
				t.Errorf("Write(Read(Write(%s))) = %s, want %s", tt.file, again, out)
			}
		})
	}
}

func TestWriteCSVRefuses(t *testing.T) {
	o := &focal.Organisation{Name: "Quoted", Sector: "isp", Country: "FR",
		Contacts: []focal.Contact{{Email: `"abuse desk"@example.org`, Role: "abuse"}}}
	var b bytes.Buffer
	if err := orgfile.WriteCSV(&b, []*focal.Organisation{o}); err == nil || !strings.Contains(err.Error(), "abuse desk") {
		t.Errorf("WriteCSV(address with a space) = %v, want an error naming it", err)
	}
	if err := orgfile.WriteJSON(&b, []*focal.Organisation{o}); err != nil {
		t.Errorf("WriteJSON(address with a space) = %v, want nil", err)
	}
}

func TestWriteEmpty(t *testing.T) {
	tests := []struct {
		format, want string
	}{
		{orgfile.JSON, "[]\n"},
		{orgfile.CSV, "name,sector,country,networks,asns,domains,contacts,critical_infra,notify_schedule,language\n"},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			res, out := roundTrip(t, nil, tt.format)
			if string(out) != tt.want || len(res.Orgs) != 0 || len(res.Problems) != 0 {
				t.Errorf("Write(%s, none) = %q (read back: %d orgs, %v), want %q", tt.format, out, len(res.Orgs), res.Problems, tt.want)
			}
		})
	}
}

func TestReadFails(t *testing.T) {
	big := `[{"name": "` + strings.Repeat("x", orgfile.MaxRecordBytes) + `"}]`
	tests := []struct {
		name, format, in, want string
	}{
		{"json-empty", orgfile.JSON, "", "empty input"},
		{"json-object", orgfile.JSON, `{"name": "x"}`, "line 1: want a JSON array of organisations, got an object"},
		{"json-not-json", orgfile.JSON, "name,sector\n", "line 1: not JSON"},
		{"json-syntax", orgfile.JSON, "[\n{\"name\": \"a\"},\n{\"name\":\n  x}]", "record 2 (line 4): not JSON: invalid character 'x'"},
		{"json-missing-comma", orgfile.JSON, "[\n{\"name\": \"a\"}\n{\"name\": \"b\"}]", "record 2 (line 3): not JSON"},
		{"json-trailing-comma", orgfile.JSON, "[\n{\"name\": \"a\"},\n]", "record 2 (line 3): not JSON: invalid character ']'"},
		{"json-truncated", orgfile.JSON, "[\n{\"name\": \"a\"},\n{\"name\"", "record 2 (line 3): unexpected end of input"},
		{"json-unclosed", orgfile.JSON, "[\n{\"name\": \"a\"}\n", "unexpected end of input"},
		{"json-after", orgfile.JSON, "[]\n[]", "line 2: a list after the end of the array"},
		{"json-too-large", orgfile.JSON, big, "record 1 (line 1): larger than 1048576 bytes"},
		{"csv-empty", orgfile.CSV, "", "empty input"},
		{"csv-unknown-column", orgfile.CSV, "name,sector,country,networks,asns,domains,contacts,colour\n", `unknown column(s) "colour"`},
		{"csv-missing-columns", orgfile.CSV, "name,sector,country\nx,isp,FR\n", "missing column(s) networks, asns, domains, contacts"},
		{"csv-repeated-column", orgfile.CSV, "name,sector,country,networks,asns,domains,contacts,name\n", `repeated column(s) "name"`},
		{"csv-too-large", orgfile.CSV, "name,sector,country,networks,asns,domains,contacts\n" + strings.Repeat("x", orgfile.MaxRecordBytes+1) + ",isp,FR,,,,\n", "line 2: record larger than"},
		{"format", "xml", "<orgs/>", `unknown format "xml"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := orgfile.Read(strings.NewReader(tt.in), tt.format)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Read(%s, %.40q) = %v, want an error with %q", tt.format, tt.in, err, tt.want)
			}
		})
	}
}

func TestReadAccepts(t *testing.T) {
	tests := []struct {
		name, format, in string
		orgs             int
	}{
		{"json-empty-array", orgfile.JSON, " [ ] \n", 0},
		{"json-bom", orgfile.JSON, "\ufeff[{\"name\": \"A\", \"sector\": \"isp\", \"country\": \"FR\"}]", 1},
		{"json-one-line", orgfile.JSON, `[{"name":"A","sector":"isp","country":"FR"},{"name":"B","sector":"isp","country":"FR"}]`, 2},
		{"json-case-insensitive-members", orgfile.JSON, `[{"Name":"A","SECTOR":"isp","country":"FR"}]`, 1},
		{"csv-bom-header-only", orgfile.CSV, "\ufeffName, Sector ,country,networks,asns,domains,contacts\r\n", 0},
		{"csv-any-order", orgfile.CSV, "contacts,domains,asns,networks,country,sector,name\nabuse@example.org,example.org,,,FR,isp,A\n", 1},
		{"csv-largest-record", orgfile.CSV, "name,sector,country,networks,asns,domains,contacts\nA,isp,FR,,,," + strings.Repeat(" ", orgfile.MaxRecordBytes-13) + "\n", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := orgfile.Read(strings.NewReader(tt.in), tt.format)
			if err != nil || len(res.Orgs) != tt.orgs || len(res.Problems) > 0 {
				t.Errorf("Read(%s, %.40q) = %d orgs, %v, %v; want %d orgs", tt.format, tt.in, len(res.Orgs), res.Problems, err, tt.orgs)
			}
		})
	}
}

func TestCriticalInfraDefault(t *testing.T) {
	tests := []struct {
		name, in string
		want     bool
	}{
		{"critical-sector", `[{"name": "A", "sector": "energy", "country": "FR"}]`, true},
		{"other-sector", `[{"name": "A", "sector": "retail", "country": "FR"}]`, false},
		{"override-false", `[{"name": "A", "sector": "energy", "country": "FR", "critical_infra": false}]`, false},
		{"override-true", `[{"name": "A", "sector": "retail", "country": "FR", "critical_infra": true}]`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := orgfile.ReadJSON(strings.NewReader(tt.in))
			if err != nil || len(res.Orgs) != 1 || res.Orgs[0].CriticalInfra != tt.want {
				t.Fatalf("ReadJSON(%s) = %+v, %v; want one org with critical_infra %v", tt.in, res, err, tt.want)
			}
		})
	}
}

func TestDetectFormat(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"orgs.json", orgfile.JSON, true},
		{"/tmp/ORGS.JSON", orgfile.JSON, true},
		{"export.2024.csv", orgfile.CSV, true},
		{"orgs.txt", "", false},
		{"orgs", "", false},
	}
	for _, tt := range tests {
		t.Run(strings.ReplaceAll(tt.in, "/", "_"), func(t *testing.T) {
			got, err := orgfile.DetectFormat(tt.in)
			if got != tt.want || (err == nil) != tt.ok {
				t.Errorf("DetectFormat(%q) = %q, %v, want %q (ok %v)", tt.in, got, err, tt.want, tt.ok)
			}
		})
	}
}

// checkResult checks the contract on any input: problems located, orgs
// valid, and the orgs surviving a round trip through format.
func checkResult(tb testing.TB, res orgfile.Result, format string) {
	tb.Helper()
	for i, p := range res.Problems {
		if p.Line <= 0 {
			tb.Errorf("problem %#v has line %d, want > 0", p, p.Line)
		}
		if i > 0 && p.Line < res.Problems[i-1].Line {
			tb.Errorf("problem %#v comes after one on line %d, want file order", p, res.Problems[i-1].Line)
		}
	}
	seen := map[string]bool{}
	for _, o := range res.Orgs {
		if err := o.Validate(); err != nil {
			tb.Errorf("org %q: Validate() = %v, want nil", o.Name, err)
		}
		if k := strings.ToLower(o.Name); seen[k] {
			tb.Errorf("org %q appears twice", o.Name)
		} else {
			seen[k] = true
		}
	}
	var b bytes.Buffer
	write := orgfile.WriteJSON
	if format == orgfile.CSV {
		write = orgfile.WriteCSV
	}
	if err := write(&b, res.Orgs); err != nil {
		if format == orgfile.CSV {
			return // some values have no CSV form; WriteCSV says so
		}
		tb.Fatalf("WriteJSON = %v", err)
	}
	back, err := orgfile.Read(&b, format)
	if err != nil || len(back.Problems) > 0 || !reflect.DeepEqual(back.Orgs, res.Orgs) {
		tb.Errorf("Read(Write(orgs)) = %v, %v, %v; want the orgs again", back.Orgs, back.Problems, err)
	}
}

func addSeeds(f *testing.F, ext string) {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*."+ext))
	if err != nil || len(files) == 0 {
		f.Fatalf("no testdata/*.%s seeds: %v", ext, err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func FuzzReadJSON(f *testing.F) {
	addSeeds(f, "json")
	f.Add([]byte(`[{"name": "A", "sector": "isp", "country": "FR", "asns": [1e3, -1, "AS4294967296"], "notify": null}]`))
	f.Fuzz(func(t *testing.T, in []byte) {
		res, err := orgfile.ReadJSON(bytes.NewReader(in))
		if err != nil {
			return
		}
		checkResult(t, res, orgfile.JSON)
	})
}

func FuzzReadCSV(f *testing.F) {
	addSeeds(f, "csv")
	f.Add([]byte("name,sector,country,networks,asns,domains,contacts\n\"A\nB\",isp,FR,,,,\"x\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		res, err := orgfile.ReadCSV(bytes.NewReader(in))
		if err != nil {
			return
		}
		checkResult(t, res, orgfile.CSV)
	})
}

// ExampleReadCSV shows a file with one good and one bad row.
func ExampleReadCSV() {
	in := "name,sector,country,networks,asns,domains,contacts\n" +
		"Example Networks,isp,FR,198.51.100.0/24,AS64496,example.net,abuse:abuse@example.net\n" +
		"Example Bank,banking,FR,198.51.100.0/33,,example.com,security:soc@example.com\n"
	res, err := orgfile.ReadCSV(strings.NewReader(in))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, o := range res.Orgs {
		fmt.Println(o.Name, o.Networks, o.ASNs, o.CriticalInfra)
	}
	for _, p := range res.Problems {
		fmt.Println(p)
	}
	// Output:
	// Example Networks [198.51.100.0/24] [64496] true
	// line 3: networks: not a network in CIDR form: "198.51.100.0/33"
}
