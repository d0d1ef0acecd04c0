package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"focal/internal/focal"
	"focal/internal/orgfile"
	"focal/internal/store"
)

func runOrg(ctx context.Context, env Env, fs *flag.FlagSet, args []string) error {
	return runGroup(ctx, env, fs, args, "org", []subcommand{
		{"import", "FILE [--format json|csv] [--partial] [--replace]", "import organisations from a JSON or CSV file (- for standard input), all or nothing", orgImport},
		{"export", "[--format json|csv] [--out FILE]", "export every organisation as JSON or CSV", orgExport},
		{"list", "", "list the organisations", orgList},
	})
}

// checkFormat returns format, or the one the name's extension says when
// format is empty.
func checkFormat(format, name, flagName string) (string, error) {
	switch format {
	case orgfile.JSON, orgfile.CSV:
		return format, nil
	case "":
		f, err := orgfile.DetectFormat(name)
		if err != nil {
			return "", usagef("%s (set --format)", strings.TrimPrefix(err.Error(), "orgfile: "))
		}
		return f, nil
	}
	return "", usagef("%s: want json or csv, got %q", flagName, format)
}

func orgImport(ctx context.Context, env Env, fs *flag.FlagSet, args []string) (err error) {
	format := fs.String("format", "", "file format, json or csv (default: from the file's extension)")
	partial := fs.Bool("partial", false, "import the valid records even if others have problems")
	replace := fs.Bool("replace", false, "update organisations that exist (same name, regardless of case), keeping their id (default: skip them)")
	cfg, files, err := parseArgs(env, fs, args, storeFlags(fs))
	if err != nil {
		return err
	}
	if len(files) != 1 {
		return usagef("want one FILE to import (- for standard input), got %d", len(files))
	}
	file, display := files[0], files[0]
	var r io.Reader = env.Stdin
	if file == "-" {
		display = "<stdin>"
		if *format == "" {
			return usagef("--format is required to read standard input")
		}
	}
	f, err := checkFormat(*format, file, "--format")
	if err != nil {
		return err
	}
	if file != "-" {
		fh, err := os.Open(file)
		if err != nil {
			return err
		}
		defer fh.Close() // read only: closing cannot lose data
		r = fh
	}
	res, err := orgfile.Read(r, f)
	if err != nil {
		return fmt.Errorf("%s: %s; nothing imported", display, strings.TrimPrefix(err.Error(), "orgfile: "))
	}
	for _, p := range res.Problems {
		fmt.Fprintln(env.Stderr, problemLine(display, p))
	}
	problems := plural(len(res.Problems), "problem")
	switch {
	case len(res.Problems) > 0 && !*partial:
		return fmt.Errorf("%s; nothing imported (use --partial to import the valid records)", problems)
	case len(res.Problems) > 0 && len(res.Orgs) == 0:
		return fmt.Errorf("%s and no valid record; nothing imported", problems)
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, st.Close()) }()
	created, updated, skipped, err := st.ImportOrganisations(operator(ctx), res.Orgs, *replace)
	if err != nil {
		return fmt.Errorf("nothing imported: %w", storeError(err))
	}
	for _, o := range res.Orgs {
		if o.ID == 0 {
			fmt.Fprintf(env.Stderr, "%s: skipped %q: an organisation of that name exists (use --replace to update it)\n", display, o.Name)
		}
	}
	fmt.Fprintf(env.Stdout, "imported: %d created, %d updated, %d skipped\n", created, updated, skipped)
	if len(res.Problems) > 0 {
		if created+updated == 0 {
			return fmt.Errorf("%s; nothing imported", problems)
		}
		fmt.Fprintf(env.Stderr, "%s: %s; imported the valid records\n", display, problems)
	}
	return nil
}

// problemLine formats a problem of file as "FILE:LINE: field: message",
// naming the record of a JSON file, whose lines may hold many.
func problemLine(file string, p orgfile.Problem) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d: ", file, p.Line)
	if p.Field != "" {
		b.WriteString(p.Field + ": ")
	}
	b.WriteString(p.Message)
	if p.Record > 0 {
		fmt.Fprintf(&b, " (record %d)", p.Record)
	}
	return b.String()
}

// plural returns "1 problem", "2 problems".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// allOrganisations reads every organisation, a page at a time.
func allOrganisations(ctx context.Context, st *store.Store) ([]*focal.Organisation, error) {
	const page = 1000
	var all []*focal.Organisation
	for {
		orgs, total, err := st.Organisations(ctx, store.OrgFilter{Limit: page, Offset: len(all)})
		if err != nil {
			return nil, err
		}
		all = append(all, orgs...)
		if len(orgs) < page || len(all) >= total {
			return all, nil
		}
	}
}

func orgExport(ctx context.Context, env Env, fs *flag.FlagSet, args []string) (err error) {
	format := fs.String("format", "", "json or csv (default: from the extension of --out, else json)")
	out := fs.String("out", "", "write to this file, replaced at once when complete (default: standard output)")
	cfg, err := parse(env, fs, args, storeFlags(fs))
	if err != nil {
		return err
	}
	f := *format
	if f == "" {
		f = orgfile.JSON
		if d, err := orgfile.DetectFormat(*out); *out != "" && err == nil {
			f = d
		}
	}
	if f, err = checkFormat(f, *out, "--format"); err != nil {
		return err
	}
	write := orgfile.WriteJSON
	if f == orgfile.CSV {
		write = orgfile.WriteCSV
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, st.Close()) }()
	orgs, err := allOrganisations(operator(ctx), st)
	if err != nil {
		return err
	}
	if *out == "" {
		return write(env.Stdout, orgs)
	}
	if err := writeFileAtomic(*out, func(w io.Writer) error { return write(w, orgs) }); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "exported %s to %s\n", plural(len(orgs), "organisation"), *out)
	return nil
}

// writeFileAtomic writes path through a temporary file in the same
// directory (mode 0600: the registry holds contact data), renamed over
// path once complete, so a reader never sees half a file.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	err = write(tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return errors.Join(err, os.Remove(tmp.Name()))
	}
	return nil
}

func orgList(ctx context.Context, env Env, fs *flag.FlagSet, args []string) (err error) {
	cfg, err := parse(env, fs, args, storeFlags(fs))
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, st.Close()) }()
	orgs, err := allOrganisations(operator(ctx), st)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSECTOR\tCOUNTRY\tNETWORKS\tDOMAINS")
	for _, o := range orgs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\n", o.Name, o.Sector, o.Country, len(o.Networks), len(o.Domains))
	}
	return tw.Flush()
}
