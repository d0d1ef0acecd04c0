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
	lc := &feed.LineCounter{R: r}
	defer func() { st.Lines = lc.Lines() }()
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
		return st, fmt.Errorf("%s: top-level value is %s, want a JSON array: the feed format changed?", FormatFeodoJSON, feed.DescribeToken(tok))
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
			n := lc.LineAt(off)
			problem(n, fmt.Sprintf("element %d: %v", i, err), nil)
			return st, fmt.Errorf("%s: line %d: element %d: %w", FormatFeodoJSON, n, i, err)
		}
		end := lc.LineAt(dec.InputOffset())
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
		return st, fmt.Errorf("%s: line %d: %w", FormatFeodoJSON, lc.LineAt(dec.InputOffset()), err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return st, fmt.Errorf("%s: line %d: data after the array", FormatFeodoJSON, lc.LineAt(dec.InputOffset()))
	}
	return st, nil
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

// FeodoRecord maps one element of the Feodo Tracker JSON blocklist (one
// record of the feodo-json format) to its event.
func FeodoRecord(rec []byte, run feed.Run) ([]*focal.Event, error) {
	e, ind, err := feodoElement(rec)
	if err != nil {
		return nil, err
	}
	finish(e, run.Feed, run.Now, ind, string(rec))
	return []*focal.Event{e}, nil
}
