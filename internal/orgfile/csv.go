package orgfile

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"focal/internal/focal"
)

// csvColumns returns the required and the optional CSV columns, in the
// order WriteCSV writes them.
func csvColumns() (required, optional []string) {
	return []string{"name", "sector", "country", "networks", "asns", "domains", "contacts"},
		[]string{"critical_infra", "notify_schedule", "language"}
}

// ReadCSV reads a CSV file with a header row, one organisation per row.
func ReadCSV(r io.Reader) (Result, error) {
	m := newMeter(r, false)
	cr := csv.NewReader(m)
	cr.ReuseRecord = true
	var res Result
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return res, errors.New("orgfile: empty input: want a CSV header row")
		}
		return res, csvFault(err, 1)
	}
	cols, err := csvHeader(header)
	if err != nil {
		return res, err
	}
	seen := names{}
	next := 2 // the line after the last row read, for errors that have none
	for n := 1; ; n++ {
		m.mark = cr.InputOffset()
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return res, nil
		}
		if n > MaxRecords {
			return res, fmt.Errorf("orgfile: more than %d records", MaxRecords)
		}
		if cr.InputOffset()-m.mark > MaxRecordBytes || errors.Is(err, errTooLarge) {
			return res, fmt.Errorf("orgfile: line %d: record larger than %d bytes", next, MaxRecordBytes)
		}
		var pe *csv.ParseError
		switch {
		case errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount):
			res.Problems = append(res.Problems, Problem{Line: pe.StartLine, Message: fmt.Sprintf("%d fields, want %d as in the header", len(rec), len(header))})
			next = pe.Line + 1
			continue
		case errors.As(err, &pe):
			if cr.InputOffset() == m.mark {
				return res, csvFault(err, next) // no progress: give up rather than loop
			}
			res.Problems = append(res.Problems, Problem{Line: pe.Line, Message: pe.Err.Error()})
			next = pe.Line + 1
			continue
		case err != nil:
			return res, csvFault(err, next)
		}
		line, _ := cr.FieldPos(0)
		last, _ := cr.FieldPos(len(rec) - 1)
		next = last + strings.Count(rec[len(rec)-1], "\n") + 1
		o, probs := readCSVRow(rec, cols, line, seen)
		if o != nil {
			res.Orgs = append(res.Orgs, o)
		}
		res.Problems = append(res.Problems, probs...)
	}
}

// csvFault describes an error that ends reading.
func csvFault(err error, line int) error {
	var pe *csv.ParseError
	switch {
	case errors.Is(err, errTooLarge):
		return fmt.Errorf("orgfile: line %d: record larger than %d bytes", line, MaxRecordBytes)
	case errors.As(err, &pe):
		return fmt.Errorf("orgfile: line %d: %w", pe.Line, pe.Err)
	}
	return fmt.Errorf("orgfile: line %d: read: %w", line, err)
}

// csvHeader maps each column name to its index, or says which columns are
// unknown, repeated or missing.
func csvHeader(header []string) (map[string]int, error) {
	required, optional := csvColumns()
	cols := map[string]int{}
	var unknown, repeated, missing []string
	for i, h := range header {
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff") // a byte order mark, as spreadsheets write
		}
		name := strings.ToLower(strings.TrimSpace(h))
		switch _, dup := cols[name]; {
		case !slices.Contains(required, name) && !slices.Contains(optional, name):
			unknown = append(unknown, strconv.Quote(h))
		case dup:
			repeated = append(repeated, strconv.Quote(name))
		}
		cols[name] = i
	}
	for _, c := range required {
		if _, ok := cols[c]; !ok {
			missing = append(missing, c)
		}
	}
	var msgs []string
	if len(unknown) > 0 {
		msgs = append(msgs, "unknown column(s) "+strings.Join(unknown, ", "))
	}
	if len(repeated) > 0 {
		msgs = append(msgs, "repeated column(s) "+strings.Join(repeated, ", "))
	}
	if len(missing) > 0 {
		msgs = append(msgs, "missing column(s) "+strings.Join(missing, ", "))
	}
	if len(msgs) > 0 {
		return nil, fmt.Errorf("orgfile: line 1: header: %s (want %s, and optionally %s)",
			strings.Join(msgs, "; "), strings.Join(required, ","), strings.Join(optional, ","))
	}
	return cols, nil
}

// readCSVRow reads one row, which starts on line. It returns the
// organisation, or nil and the row's problems.
func readCSVRow(rec []string, cols map[string]int, line int, seen names) (*focal.Organisation, []Problem) {
	cell := func(name string) string {
		if i, ok := cols[name]; ok {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	d := &draft{}
	d.org.Name, d.org.Sector, d.org.Country = cell("name"), cell("sector"), cell("country")
	for i, s := range strings.Fields(cell("networks")) {
		d.addNetwork(i, s)
	}
	for i, s := range strings.Fields(cell("asns")) {
		d.addASN(i, s)
	}
	for i, s := range strings.Fields(cell("domains")) {
		d.addDomain(i, s)
	}
	for i, s := range strings.Fields(cell("contacts")) {
		c := focal.Contact{Email: s}
		if k := strings.IndexByte(s, ':'); k >= 0 && !strings.Contains(s[:k], "@") {
			c.Role, c.Email = s[:k], s[k+1:]
		}
		d.addContact(i, c)
	}
	if s := cell("critical_infra"); s != "" {
		switch b, err := strconv.ParseBool(s); {
		case err == nil:
			d.critical = &b
		case strings.EqualFold(s, "yes"), strings.EqualFold(s, "no"):
			b := strings.EqualFold(s, "yes")
			d.critical = &b
		default:
			d.fail("critical_infra", "want true or false, got %q", s)
		}
	}
	d.org.Notify.Schedule = cell("notify_schedule")
	d.org.Notify.Language = cell("language")
	o := d.finish()
	if first, dup := seen.check(&d.org, place{0, line}); dup {
		d.fail("name", "%q is also the name on line %d; names are unique regardless of case", d.org.Name, first.line)
		o = nil
	}
	if o != nil {
		return o, nil
	}
	probs := make([]Problem, len(d.issues))
	for i, is := range d.issues {
		probs[i] = Problem{Line: line, Field: csvColumn(is.field), Message: is.message}
	}
	return nil, probs
}

// csvColumn returns the column of a JSON member path.
func csvColumn(field string) string {
	switch field {
	case "notify.schedule":
		return "notify_schedule"
	case "notify.language":
		return "language"
	}
	if i := strings.IndexAny(field, ".["); i >= 0 {
		return field[:i]
	}
	return field
}

// WriteCSV writes orgs as CSV with a header row, which ReadCSV reads back.
// CSV has no place for contact names, OpenPGP keys and languages or for the
// encryption preference: they are left out (export JSON to keep them). It
// fails on a value the format cannot hold: an address with white space.
func WriteCSV(w io.Writer, orgs []*focal.Organisation) error {
	required, optional := csvColumns()
	cw := csv.NewWriter(w)
	if err := cw.Write(append(required, optional...)); err != nil {
		return fmt.Errorf("orgfile: write csv: %w", err)
	}
	for _, o := range orgs {
		var networks, asns, contacts []string
		for _, p := range o.Networks {
			networks = append(networks, p.String())
		}
		for _, a := range o.ASNs {
			asns = append(asns, "AS"+strconv.FormatUint(uint64(a), 10))
		}
		for _, c := range o.Contacts {
			if c.Email == "" || strings.ContainsFunc(c.Email, unicode.IsSpace) {
				return fmt.Errorf("orgfile: write csv: %s: contact %q cannot be written in CSV; export JSON", o.Name, c.Email)
			}
			role := c.Role
			if role == "" {
				role = "abuse"
			}
			contacts = append(contacts, role+":"+c.Email)
		}
		for _, d := range o.Domains {
			if d == "" || strings.ContainsFunc(d, unicode.IsSpace) {
				return fmt.Errorf("orgfile: write csv: %s: domain %q cannot be written in CSV; export JSON", o.Name, d)
			}
		}
		row := []string{o.Name, o.Sector, o.Country, strings.Join(networks, " "), strings.Join(asns, " "),
			strings.Join(o.Domains, " "), strings.Join(contacts, " "), strconv.FormatBool(o.CriticalInfra),
			o.Notify.Schedule, o.Notify.Language}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("orgfile: write csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("orgfile: write csv: %w", err)
	}
	return nil
}
