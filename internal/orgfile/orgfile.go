// Package orgfile reads and writes the constituency registry in bulk, as
// JSON or CSV files, for `focal org import` and `focal org export`.
//
// Contract:
//   - Read, ReadJSON and ReadCSV return an error only when the input as a
//     whole cannot be read: an I/O error, JSON that is not an array (or not
//     JSON), a CSV file without a usable header row, a record larger than
//     MaxRecordBytes or more than MaxRecords records. Everything wrong with
//     individual records is a Problem in Result.Problems, and those records
//     are left out of Result.Orgs.
//   - Every organisation in Result.Orgs is normalised (focal.Organisation's
//     Normalize) and valid (Validate); CriticalInfra defaults from the
//     sector when the file does not say. IDs and times are zero.
//   - Names are unique regardless of case: the second record with a name is
//     a Problem, the first one is kept.
//   - Every Problem has a Line > 0, the line of the file it is about (for
//     JSON, the line of the offending member when it can be told, else of
//     the record's opening brace), and Problems are in file order. JSON
//     problems also name the record (Record, from 1), since one line may
//     hold many. A record is checked as far as it can be: every bad
//     network, ASN, domain and address is reported, then the first other
//     fault Validate finds; a JSON record with an unknown member or a value
//     of the wrong type reports only that.
//   - The input is streamed: memory grows with the organisations and
//     problems returned, not with the size of the file.
//   - WriteJSON and WriteCSV write what ReadJSON and ReadCSV read back to the
//     same organisations. CSV has no place for contact names, OpenPGP keys
//     and languages or for the encryption preference: WriteCSV leaves them
//     out, and fails on an address it cannot represent.
//
// JSON is an array of objects:
//
//	[{"name": "Example Networks", "sector": "isp", "country": "FR",
//	  "critical_infra": true, "networks": ["198.51.100.0/24"],
//	  "asns": [64496, "AS64497"], "domains": ["example.net"],
//	  "contacts": [{"email": "abuse@example.net", "role": "abuse"}],
//	  "notify": {"schedule": "daily", "language": "fr"}}]
//
// Unknown members are problems. CSV has a header row naming its columns, in
// any order: name, sector, country, networks, asns, domains and contacts
// are required; critical_infra, notify_schedule and language (of
// notifications) are optional. Lists are separated by spaces; a contact is
// "email" (role abuse) or "role:email".
package orgfile

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"focal/internal/focal"
)

// Bounds on the input.
const (
	// MaxRecordBytes is the largest record, in bytes, that is read.
	MaxRecordBytes = 1 << 20
	// MaxRecords is the largest number of records in one file.
	MaxRecords = 1_000_000
)

// The formats.
const (
	JSON = "json"
	CSV  = "csv"
)

// Problem is what is wrong with one record of a file.
type Problem struct {
	Line    int    // line of the file, from 1
	Record  int    // index of the record in a JSON array, from 1; 0 for CSV, whose rows Line locates
	Field   string // JSON member path (e.g. "contacts[1].email") or CSV column; "" for the whole record
	Message string // what is wrong, for people
}

// Error returns the problem as "line 4: networks: message" (CSV) or
// "record 3 (line 17): networks[1]: message" (JSON).
func (p Problem) Error() string {
	var b strings.Builder
	if p.Record > 0 {
		fmt.Fprintf(&b, "record %d (line %d): ", p.Record, p.Line)
	} else {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Field != "" {
		b.WriteString(p.Field)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Result is what a file holds: its valid organisations, in file order, and
// the problems of the others.
type Result struct {
	Orgs     []*focal.Organisation
	Problems []Problem
}

// Read reads a file in format JSON or CSV.
func Read(r io.Reader, format string) (Result, error) {
	switch format {
	case JSON:
		return ReadJSON(r)
	case CSV:
		return ReadCSV(r)
	}
	return Result{}, fmt.Errorf("orgfile: unknown format %q: want json or csv", format)
}

// DetectFormat returns the format of a file from its extension: JSON for
// .json, CSV for .csv, in any case.
func DetectFormat(filename string) (string, error) {
	switch strings.ToLower(filepath.Ext(filename)) {
	case ".json":
		return JSON, nil
	case ".csv":
		return CSV, nil
	}
	return "", fmt.Errorf("orgfile: cannot tell the format of %q from its extension: want .json or .csv", filename)
}

// issue is a problem of a record before it has a line: field is a JSON
// member path, at (when not 0) the offset in the JSON record just past the
// offending value.
type issue struct {
	field, message string
	at             int64
}

// draft is one record as read, before it becomes an organisation. The
// readers fill org with the values that parsed, record an issue for each
// that did not, and call finish.
type draft struct {
	org      focal.Organisation
	critical *bool    // nil: from the sector
	asns     []uint32 // ASNs in file order
	asnIdx   []int    // their indices in the file's list
	contIdx  []int    // indices in the file's list of the contacts kept
	issues   []issue
}

func (d *draft) fail(field, format string, args ...any) {
	d.issues = append(d.issues, issue{field: field, message: fmt.Sprintf(format, args...)})
}

func (d *draft) addNetwork(i int, s string) {
	p, err := focal.ParsePrefix(s)
	if err != nil {
		d.fail(fmt.Sprintf("networks[%d]", i), "%v", err)
		return
	}
	d.org.Networks = append(d.org.Networks, p)
}

func (d *draft) addASN(i int, s string) {
	a, err := focal.ParseASN(s)
	if err != nil {
		d.fail(fmt.Sprintf("asns[%d]", i), "%v", err)
		return
	}
	d.org.ASNs = append(d.org.ASNs, a)
	d.asns = append(d.asns, a)
	d.asnIdx = append(d.asnIdx, i)
}

// addDomain checks one domain as Validate would after Normalize, so that a
// problem names the domain's place in the file, not in the sorted list.
func (d *draft) addDomain(i int, s string) {
	one := focal.Organisation{Domains: []string{s}}
	one.Normalize()
	if err := focal.ValidateDomain(one.Domains[0]); err != nil {
		d.fail(fmt.Sprintf("domains[%d]", i), "%v", err)
		return
	}
	d.org.Domains = append(d.org.Domains, s)
}

// addContact checks the address here, so that every bad address is
// reported, not only the first as Validate does.
func (d *draft) addContact(i int, c focal.Contact) {
	if err := focal.ValidateEmail(strings.TrimSpace(c.Email)); err != nil {
		d.fail(fmt.Sprintf("contacts[%d].email", i), "%v", err)
		return
	}
	d.org.Contacts = append(d.org.Contacts, c)
	d.contIdx = append(d.contIdx, i)
}

// finish normalises and validates the organisation and returns it, or nil
// when the record has issues.
func (d *draft) finish() *focal.Organisation {
	o := &d.org
	o.Normalize()
	if d.critical != nil {
		o.CriticalInfra = *d.critical
	} else if sec, ok := focal.LookupSector(o.Sector); ok {
		o.CriticalInfra = sec.Critical
	}
	if err := o.Validate(); err != nil {
		field, msg := "", err.Error()
		var fe *focal.Error
		if errors.As(err, &fe) {
			field, msg = fe.Field, fe.Message
		}
		d.fail(d.fileField(field), "%s", msg)
	}
	if len(d.issues) > 0 {
		return nil
	}
	return o
}

// fileField maps a field of Validate, which indexes the lists as kept and
// sorted, to the place in the file. Of the sorted lists only ASNs can
// still fail there (reserved numbers); networks and domains were checked
// element by element.
func (d *draft) fileField(field string) string {
	list, rest, ok := strings.Cut(field, "[")
	if !ok {
		return field
	}
	idx, tail, ok := strings.Cut(rest, "]")
	i, err := strconv.Atoi(idx)
	if !ok || err != nil || i < 0 {
		return list
	}
	switch {
	case list == "contacts" && i < len(d.contIdx):
		return fmt.Sprintf("contacts[%d]%s", d.contIdx[i], tail)
	case list == "asns" && i < len(d.org.ASNs):
		if k := slices.Index(d.asns, d.org.ASNs[i]); k >= 0 {
			return fmt.Sprintf("asns[%d]", d.asnIdx[k])
		}
	}
	return list
}

// place is where a record is: its index in a JSON array (0 in CSV) and line.
type place struct{ record, line int }

// names finds names used twice in a file.
type names map[string]place // lower-cased name -> its first record

// check reports whether o's name was seen before, and where; if not, it
// remembers it at p.
func (n names) check(o *focal.Organisation, p place) (place, bool) {
	if o.Name == "" {
		return place{}, false
	}
	key := strings.ToLower(o.Name)
	if first, ok := n[key]; ok {
		return first, true
	}
	n[key] = p
	return place{}, false
}
