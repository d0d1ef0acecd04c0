package formats

import (
	"os"
	"regexp"
	"testing"
)

// TestDocsListEveryFormat keeps docs/feeds.md in step with the registry:
// one "### `name`" section per format, and none for a format that is gone.
func TestDocsListEveryFormat(t *testing.T) {
	b, err := os.ReadFile("../../../docs/feeds.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^### `([a-z0-9-]+)`").FindAllStringSubmatch(string(b), -1) {
		documented[m[1]] = true
	}
	for _, n := range Names() {
		if !documented[n] {
			t.Errorf("docs/feeds.md has no section for format %q", n)
		}
		delete(documented, n)
	}
	for n := range documented {
		t.Errorf("docs/feeds.md documents format %q, which does not exist", n)
	}
}
