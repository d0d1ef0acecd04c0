package abusech

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"focal/internal/feed"
	"focal/internal/focal"
)

// feodoElem is one element of the Feodo Tracker JSON blocklist. Numbers
// are accepted as JSON numbers or numeric strings; null is "".
type feodoElem struct {
	IPAddress  string      `json:"ip_address"`
	Port       json.Number `json:"port"`
	Status     string      `json:"status"`
	Hostname   string      `json:"hostname"`
	ASNumber   json.Number `json:"as_number"`
	ASName     string      `json:"as_name"`
	Country    string      `json:"country"`
	FirstSeen  string      `json:"first_seen"`
	LastOnline string      `json:"last_online"`
	Malware    string      `json:"malware"`
}

// ParseFeodoJSON reads a Feodo Tracker IP blocklist in JSON (an array of
// objects), decoding one element at a time, emitting one
// malicious-code/c2-server event per element and reporting unusable
// elements with the line they start on. Input that is not a JSON array,
// or is broken so that decoding cannot go on, fails the run.
func ParseFeodoJSON(r io.Reader, f feed.Feed, now time.Time, emit feed.Emit, report feed.Report) (st feed.Stats, err error) {
	lc := &lineCounter{r: r}
	defer func() { st.Lines = lc.lines() }()
	problem := func(n int, reason string, raw []byte) {
		st.Problems++
		if report != nil {
			report(feed.Problem{Line: n, Reason: reason, Raw: feed.Cut(string(raw), focal.MaxRawLine)})
		}
	}
	dec := json.NewDecoder(lc)
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return st, fmt.Errorf("%s: empty input, want a JSON array", FormatFeodoJSON)
		}
		return st, fmt.Errorf("%s: %w", FormatFeodoJSON, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return st, fmt.Errorf("%s: top-level value is %s, want a JSON array: the feed format changed?", FormatFeodoJSON, describe(tok))
	}
	for i := 0; dec.More(); i++ {
		before := dec.InputOffset()
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			off := before
			var se *json.SyntaxError
			if errors.As(err, &se) {
				off += se.Offset
			}
			n := lc.lineAt(off)
			problem(n, fmt.Sprintf("element %d: %v", i, err), nil)
			return st, fmt.Errorf("%s: line %d: element %d: %w", FormatFeodoJSON, n, i, err)
		}
		end := lc.lineAt(dec.InputOffset())
		n := end - bytes.Count(raw, []byte{'\n'})
		var compact bytes.Buffer
		if json.Compact(&compact, raw) != nil {
			compact.Reset()
			compact.Write(raw)
		}
		e, ind, err := feodoElement(raw)
		if err != nil {
			problem(n, fmt.Sprintf("element %d: %v", i, err), compact.Bytes())
			continue
		}
		finish(e, f, now, ind, compact.String())
		if err := e.Validate(); err != nil {
			problem(n, fmt.Sprintf("element %d: invalid event: %v", i, err), compact.Bytes())
			continue
		}
		if err := emit(e); err != nil {
			return st, err
		}
		st.Events++
	}
	if _, err := dec.Token(); err != nil {
		return st, fmt.Errorf("%s: line %d: %w", FormatFeodoJSON, lc.lineAt(dec.InputOffset()), err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return st, fmt.Errorf("%s: line %d: data after the array", FormatFeodoJSON, lc.lineAt(dec.InputOffset()))
	}
	return st, nil
}

// describe names a JSON token's kind for an error.
func describe(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '{' {
			return "an object"
		}
		return fmt.Sprintf("%q", string(v))
	case string:
		return "a string"
	case json.Number, float64:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", tok)
}

// feodoElement maps one JSON element.
func feodoElement(raw []byte) (*focal.Event, string, error) {
	var el feodoElem
	if err := json.Unmarshal(raw, &el); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			if te.Field == "" {
				return nil, "", fmt.Errorf("want an object, got a JSON %s", te.Value)
			}
			return nil, "", fmt.Errorf("%s: want a %s, got a JSON %s", te.Field, te.Type, te.Value)
		}
		return nil, "", err
	}
	first, err := parseTime(el.FirstSeen)
	if err != nil {
		return nil, "", fmt.Errorf("first_seen: %v", err)
	}
	ip, err := parseIP(el.IPAddress)
	if err != nil {
		return nil, "", fmt.Errorf("ip_address: %v", err)
	}
	port, err := parsePort(el.Port.String())
	if err != nil {
		return nil, "", fmt.Errorf("port: %v", err)
	}
	var asn uint64
	if s := el.ASNumber.String(); s != "" {
		asn, err = strconv.ParseUint(s, 10, 32)
		if err != nil {
			return nil, "", fmt.Errorf("as_number: bad AS number %q", feed.Cut(s, 64))
		}
	}
	last, err := parseOptionalTime(el.LastOnline)
	if err != nil {
		return nil, "", fmt.Errorf("last_online: %v", err)
	}
	e := &focal.Event{
		Class:      "malicious-code",
		Type:       "c2-server",
		SourceTime: first,
		Destination: focal.Endpoint{
			IP:      ip,
			Port:    port,
			ASN:     uint32(asn),
			Country: strings.ToUpper(strings.TrimSpace(el.Country)),
			FQDN:    strings.TrimSuffix(strings.ToLower(strings.TrimSpace(el.Hostname)), "."),
		},
		Malware:    strings.ToLower(strings.TrimSpace(el.Malware)),
		Identifier: strings.TrimSpace(el.Status),
		LastSeen:   last,
	}
	return e, netip.AddrPortFrom(ip, port).String(), nil
}

// lineCounter passes reads through and turns input offsets, which only
// grow, into 1-based line numbers. It keeps only the bytes read but not
// yet counted (at most the decoder's look-ahead), so memory stays bounded.
type lineCounter struct {
	r       io.Reader
	pending []byte // bytes from base on that were read
	base    int64  // input offset of pending[0]
	line    int    // newlines before base
	total   int    // newlines read
	read    int64  // bytes read
	lastNL  bool   // the last byte read was a newline
}

func (lc *lineCounter) Read(p []byte) (int, error) {
	n, err := lc.r.Read(p)
	if n > 0 {
		lc.pending = append(lc.pending, p[:n]...)
		lc.total += bytes.Count(p[:n], []byte{'\n'})
		lc.read += int64(n)
		lc.lastNL = p[n-1] == '\n'
	}
	return n, err
}

// lineAt returns the 1-based line of input offset off (not before the
// previous call's) and forgets the bytes before it.
func (lc *lineCounter) lineAt(off int64) int {
	if off > lc.base {
		k := min(off-lc.base, int64(len(lc.pending)))
		lc.line += bytes.Count(lc.pending[:k], []byte{'\n'})
		lc.pending = append(lc.pending[:0], lc.pending[k:]...)
		lc.base += k
	}
	return lc.line + 1
}

// lines returns how many lines were read, a last line without a newline
// included.
func (lc *lineCounter) lines() int {
	if lc.read > 0 && !lc.lastNL {
		return lc.total + 1
	}
	return lc.total
}
