// Package focalroot holds repository-wide tests: every package documented,
// and the binary free of dependencies it must never gain.
package focalroot

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestPackageDocs fails when a package has no package doc comment, or more
// than one file carries one.
func TestPackageDocs(t *testing.T) {
	dirs := map[string][]string{} // dir -> files with a package doc
	seen := map[string]bool{}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != "." && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules" || name == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		dir := filepath.Dir(path)
		seen[dir] = true
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.PackageClauseOnly|parser.ParseComments)
		if err != nil {
			return err
		}
		if f.Doc != nil && strings.TrimSpace(f.Doc.Text()) != "" {
			dirs[dir] = append(dirs[dir], path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	seen["."] = true
	dirs["."] = append(dirs["."], "pkgdoc_test.go")
	for dir := range seen {
		switch n := len(dirs[dir]); {
		case n == 0:
			t.Errorf("package in %s has no package doc comment", dir)
		case n > 1 && dir != ".":
			t.Errorf("package in %s has %d package doc comments (%v), want one", dir, n, dirs[dir])
		}
	}
}

// TestDeps checks what the focal binary links: no cgo, no test packages,
// and each driver imported only by the package that owns it.
func TestDeps(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not found")
	}
	cmd := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}} {{join .Imports \",\"}}", "./cmd/focal")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list (CGO_ENABLED=0): %v", err)
	}
	owners := map[string][]string{ // import path prefix -> the only focal packages allowed to import it
		"github.com/nats-io/":   {"focal/internal/bus"},
		"modernc.org/sqlite":    {"focal/internal/store"},
		"github.com/jackc/pgx/": {"focal/internal/store"},
		"github.com/emersion/":  {"focal/internal/mailin", "focal/internal/notify"},
		"github.com/gaissmai/":  {"focal/internal/lookup", "focal/internal/geoip"},
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, " ")
		if pkg == "testing" || strings.HasPrefix(pkg, "testing/") {
			t.Errorf("the focal binary links %s", pkg)
		}
		if !strings.HasPrefix(pkg, "focal/") {
			continue
		}
		for _, imp := range strings.Split(imports, ",") {
			for prefix, allowed := range owners {
				if strings.HasPrefix(imp, prefix) && !slices.ContainsFunc(allowed, func(owner string) bool {
					return pkg == owner || strings.HasPrefix(pkg, owner+"/")
				}) {
					t.Errorf("%s imports %s; only %s may", pkg, imp, strings.Join(allowed, " and "))
				}
			}
		}
	}
}
