package observable_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"focal/internal/observable"
)

// updateFlag names the flag that rewrites testdata/*.golden from the
// current output: go test ./internal/observable/ -run Golden -update.
const updateFlag = "update"

func TestMain(m *testing.M) {
	flag.Bool(updateFlag, false, "rewrite testdata/*.golden from the current output")
	flag.Parse()
	os.Exit(m.Run())
}

// updating reports whether -update was given.
func updating() bool {
	f := flag.Lookup(updateFlag)
	return f != nil && f.Value.String() == "true"
}

// readTestdata returns the contents of testdata/name.
func readTestdata(tb testing.TB, name string) string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// inputs returns the names of the testdata/*.txt inputs.
func inputs(tb testing.TB) []string {
	tb.Helper()
	names, err := filepath.Glob(filepath.Join("testdata", "*.txt"))
	if err != nil {
		tb.Fatal(err)
	}
	if len(names) == 0 {
		tb.Fatal("no testdata/*.txt")
	}
	for i, n := range names {
		names[i] = filepath.Base(n)
	}
	return names
}

// golden renders a Result as the golden files hold it: one observable per
// line, kind, value and offset separated by tabs.
func golden(res observable.Result) string {
	var b strings.Builder
	for _, o := range res.Observables {
		fmt.Fprintf(&b, "%s\t%s\t%d\n", o.Kind, o.Value, o.Offset)
	}
	if res.Truncated {
		b.WriteString("# truncated\n")
	}
	return b.String()
}

func TestGolden(t *testing.T) {
	for _, name := range inputs(t) {
		t.Run(strings.TrimSuffix(name, ".txt"), func(t *testing.T) {
			in := readTestdata(t, name)
			res := observable.Extract(in)
			checkResult(t, in, res)
			got := golden(res)
			path := filepath.Join("testdata", strings.TrimSuffix(name, ".txt")+".golden")
			if updating() {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want := readTestdata(t, filepath.Base(path))
			if got != want {
				t.Errorf("Extract(%s) = \n%s\nwant\n%s", name, got, want)
			}
		})
	}
}
