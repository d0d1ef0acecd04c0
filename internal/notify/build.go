package notify

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	netmail "net/mail"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"

	"focal/internal/focal"
)

// Build turns one organisation's events of one period into e-mail
// messages under policy p: one message, or several numbered parts when
// the attachments would take it over team.MaxMessageSize. Every wanted
// event is in exactly one part. Events p does not want (see Wants) are
// left out; an event not matched to org is an error, so a caller's
// mistake cannot send one organisation's data to another. Build returns
// no messages and no error when no event is wanted.
//
// Each message carries a unique reference (in the subject, the body and
// the X-Focal-Reference header), the highest TLP label of its events at
// the start of the subject and of the body with the label's meaning, a
// summary per RSIT class and type, and either a CSV attachment (FormatText)
// or one XARF v4 JSON attachment per event (FormatXARF). It is signed when
// team.Signer is set and encrypted when p.RecipientKey is.
//
// Build does not schedule: for an email-immediate policy the caller
// passes the events Policy.IsImmediate picks when they arrive, and the
// rest with the digest. Build validates p (and so checks the recipient key
// at now) and team, returning their EINVALID errors; it does no I/O and is
// safe to call concurrently.
func Build(org Org, p Policy, events []*focal.Event, team Team, now time.Time) ([]*Message, error) {
	p.Classes, p.Feeds, p.Immediate, p.Recipients = slices.Clone(p.Classes), slices.Clone(p.Feeds), slices.Clone(p.Immediate), slices.Clone(p.Recipients)
	if err := team.validate(); err != nil {
		return nil, err
	}
	keys, err := p.validate(now)
	if err != nil {
		return nil, err
	}
	if p.Channel == ChannelWebhook {
		return nil, errors.New("build: the policy's channel is webhook: use BuildPayload")
	}
	evs, err := selectEvents(org, &p, events)
	if err != nil || len(evs) == 0 {
		return nil, err
	}
	tmpl := team.Templates
	if tmpl == nil {
		if tmpl, err = defaultTemplates(); err != nil {
			return nil, err
		}
	}
	b := &builder{org: org, p: &p, team: &team, tmpl: tmpl, keys: keys, now: now, events: evs}
	for _, r := range p.Recipients {
		a, err := netmail.ParseAddress(r)
		if err != nil { // validated above
			return nil, err
		}
		b.to = append(b.to, a)
	}
	return b.build()
}

// selectEvents returns the events p wants, checked against org, without
// duplicates, sorted by class, type, time and ID.
func selectEvents(org Org, p *Policy, events []*focal.Event) ([]*focal.Event, error) {
	var out []*focal.Event
	seen := map[int64]bool{}
	for _, e := range events {
		if e == nil {
			continue
		}
		if !slices.Contains(e.Orgs, org.ID) {
			return nil, fmt.Errorf("build: event %d (%s) is not matched to organisation %d", e.ID, e, org.ID)
		}
		if ok, _ := p.decide(e, false); !ok {
			continue
		}
		if e.ID != 0 {
			if seen[e.ID] {
				continue
			}
			seen[e.ID] = true
		}
		out = append(out, e)
	}
	slices.SortStableFunc(out, func(a, b *focal.Event) int {
		return cmp.Or(
			cmp.Compare(a.Class, b.Class),
			cmp.Compare(a.Type, b.Type),
			a.SourceTime.Compare(b.SourceTime),
			cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// builder holds one Build call's state.
type builder struct {
	org    Org
	p      *Policy
	team   *Team
	tmpl   *Templates
	keys   recipientKeys
	now    time.Time
	to     []*netmail.Address
	events []*focal.Event
	items  [][]byte // per event: its CSV line, or its XARF report in JSON
}

// Size estimates used to cut a digest into parts before rendering it;
// the rendered parts are then measured and cut again if need be.
const (
	fixedOverhead   = 24 << 10 // headers, body text, signature
	perAttachment   = 400      // part headers and boundary of one XARF attachment
	encryptedFactor = 1.4      // armoured OpenPGP over the MIME it encrypts
)

func (b *builder) build() ([]*Message, error) {
	b.items = make([][]byte, len(b.events))
	if b.p.Format == FormatXARF {
		for i, e := range b.events {
			var err error
			if b.items[i], err = json.MarshalIndent(ToXARF(e, *b.team, b.now), "", "  "); err != nil {
				return nil, fmt.Errorf("build: event %d: %w", e.ID, err)
			}
		}
	} else if err := csvLines(b.events, b.items); err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	costs := make([]int, len(b.events))
	for i, item := range b.items {
		costs[i] = base64Len(len(item))
		if b.p.Format == FormatXARF {
			costs[i] += perAttachment
		}
	}
	limit := b.team.MaxMessageSize
	if limit <= 0 {
		limit = DefaultMaxMessageSize
	}
	budget := limit
	if len(b.keys) > 0 {
		budget = int(float64(limit) / encryptedFactor)
	}
	budget -= fixedOverhead

	chunks := pack(costs, budget)
	digest := newReference(b.now)
	for {
		msgs := make([]*Message, len(chunks))
		var over []int
		for i, c := range chunks {
			m, err := b.render(c, i+1, len(chunks), digest)
			if err != nil {
				return nil, err
			}
			if len(m.Raw) > limit {
				if c.n == 1 {
					return nil, fmt.Errorf("build: event %d alone makes a message of %d bytes, over the %d-byte cap", b.events[c.start].ID, len(m.Raw), limit)
				}
				over = append(over, i)
			}
			msgs[i] = m
		}
		if len(over) == 0 {
			return msgs, nil
		}
		// Halve the parts that came out too large, and render again: the
		// numbering ("part 2 of 3") changes with the count.
		var next []chunk
		for i, c := range chunks {
			if slices.Contains(over, i) {
				h := c.n / 2
				next = append(next, chunk{c.start, h}, chunk{c.start + h, c.n - h})
				continue
			}
			next = append(next, c)
		}
		chunks = next
	}
}

// chunk is a run of b.events: n events from start.
type chunk struct{ start, n int }

// pack cuts costs into consecutive runs of at most budget each (at least
// one item per run).
func pack(costs []int, budget int) []chunk {
	var out []chunk
	cur, sum := chunk{}, 0
	for i, c := range costs {
		if cur.n > 0 && sum+c > budget {
			out = append(out, cur)
			cur, sum = chunk{start: i}, 0
		}
		cur.n++
		sum += c
	}
	return append(out, cur)
}

// base64Len is the size of n bytes in base64 with CRLF every 76 characters.
func base64Len(n int) int {
	l := (n + 2) / 3 * 4
	return l + (l+75)/76*2
}

// attachment is one file of a message.
type attachment struct {
	name        string
	contentType string
	params      map[string]string
	data        []byte
}

// render builds part of parts of the digest.
func (b *builder) render(c chunk, part, parts int, digest string) (*Message, error) {
	evs := b.events[c.start : c.start+c.n]
	ref := digest
	if parts > 1 {
		ref = fmt.Sprintf("%s-%d", digest, part)
	}
	d := &DigestData{
		Team: *b.team, Org: b.org, Reference: ref, Part: part, Parts: parts,
		Generated: b.now, Total: len(evs), Format: b.p.Format,
		Encrypted: len(b.keys) > 0, Signed: b.team.Signer != nil,
	}
	d.TLP = focal.TLPClear
	rows := map[[2]string]*SummaryRow{}
	var order [][2]string
	ids := make([]int64, len(evs))
	for i, e := range evs {
		ids[i] = e.ID
		if t := effectiveTLP(e.TLP); t.Rank() > d.TLP.Rank() {
			d.TLP = t
		}
		n := max(e.Count, 1)
		d.Sightings += n
		k := [2]string{e.Class, e.Type}
		r := rows[k]
		if r == nil {
			r = &SummaryRow{Class: e.Class, Type: e.Type, Name: e.Type}
			if _, t, ok := focal.LookupRSIT(e.Class, e.Type); ok {
				r.Name = t.Name
			}
			rows[k] = r
			order = append(order, k)
		}
		r.Events++
		r.Sightings += n
		first := firstNonZero(e.FirstSeen, e.SourceTime, e.ObservedTime)
		last := firstNonZero(e.LastSeen, e.SourceTime, e.ObservedTime)
		if !first.IsZero() && (d.First.IsZero() || first.Before(d.First)) {
			d.First = first
		}
		if last.After(d.Last) {
			d.Last = last
		}
	}
	for _, k := range order {
		d.Rows = append(d.Rows, *rows[k])
	}
	d.Label = d.TLP.String()

	var atts []attachment
	if b.p.Format == FormatXARF {
		for i := range evs {
			name := fmt.Sprintf("%s-%04d.json", ref, i+1)
			atts = append(atts, attachment{name: name, contentType: "application/json", data: b.items[c.start+i]})
		}
	} else {
		var csvData bytes.Buffer
		size := len(csvHeaderLine)
		for i := range evs {
			size += len(b.items[c.start+i])
		}
		csvData.Grow(size)
		csvData.WriteString(csvHeaderLine)
		for i := range evs {
			csvData.Write(b.items[c.start+i])
		}
		atts = append(atts, attachment{
			name: ref + ".csv", contentType: "text/csv",
			params: map[string]string{"charset": "utf-8", "header": "present"},
			data:   csvData.Bytes(),
		})
	}
	for _, a := range atts {
		d.Files = append(d.Files, a.name)
	}

	subject, text, err := b.tmpl.render(b.p.Language, d)
	if err != nil {
		return nil, err
	}
	ent, err := mixedEntity(text, atts)
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	if b.team.Signer != nil {
		if ent, err = b.team.Signer.sign(ent, b.now); err != nil {
			return nil, fmt.Errorf("build: %w", err)
		}
	}
	if len(b.keys) > 0 {
		if ent, err = encrypt(ent, b.keys, b.now); err != nil {
			return nil, fmt.Errorf("build: %w", err)
		}
	}
	raw, err := b.message(ent, subject, ref, part, parts)
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	m := &Message{
		Reference: ref, Digest: digest, OrgID: b.org.ID,
		From: b.team.Email, Subject: subject, TLP: d.TLP,
		Part: part, Parts: parts, EventIDs: ids,
		Signed: d.Signed, Encrypted: d.Encrypted, Raw: raw,
	}
	for _, a := range b.to {
		m.To = append(m.To, a.Address)
	}
	return m, nil
}

// message writes the top-level header and ent's body.
func (b *builder) message(ent mimeEntity, subject, ref string, part, parts int) ([]byte, error) {
	var h mail.Header
	// textproto writes fields last-added first: add them in reverse.
	for f := ent.header.Fields(); f.Next(); {
		h.Add(f.Key(), f.Value())
	}
	h.Set("MIME-Version", "1.0")
	if parts > 1 {
		h.Set("X-Focal-Part", fmt.Sprintf("%d/%d", part, parts))
	}
	h.Set("X-Focal-Reference", ref)
	h.Set("Auto-Submitted", "auto-generated")
	h.SetMessageID(strings.ToLower(ref) + "@" + b.team.domain())
	h.SetSubject(subject)
	if b.team.ReplyTo != "" {
		h.SetAddressList("Reply-To", []*mail.Address{{Address: b.team.ReplyTo}})
	}
	h.SetAddressList("To", b.to)
	h.SetAddressList("From", []*mail.Address{{Name: b.team.Name, Address: b.team.Email}})
	h.SetDate(b.now)
	var out bytes.Buffer
	out.Grow(len(ent.body) + 2048)
	if err := textproto.WriteHeader(&out, h.Header.Header); err != nil {
		return nil, err
	}
	out.Write(ent.body)
	return out.Bytes(), nil
}

// mixedEntity builds the multipart/mixed entity of a message: the text,
// quoted-printable, then the attachments, base64.
func mixedEntity(text string, atts []attachment) (mimeEntity, error) {
	var h message.Header
	h.SetContentType("multipart/mixed", map[string]string{"boundary": newBoundary()})
	// message.CreateWriter writes the header (with a MIME-Version a nested
	// entity does not need) before any part: send that to io.Discard and
	// keep the body only; the header is written by the caller.
	var body bytes.Buffer
	size := len(text)*5/4 + 1024
	for _, a := range atts {
		size += base64Len(len(a.data)) + 512
	}
	body.Grow(size)
	sw := &switchWriter{w: io.Discard}
	mw, err := message.CreateWriter(sw, h)
	if err != nil {
		return mimeEntity{}, err
	}
	sw.w = &body

	var th message.Header
	th.SetContentType("text/plain", map[string]string{"charset": "utf-8"})
	th.Set("Content-Transfer-Encoding", "quoted-printable")
	if err := writePart(mw, th, []byte(text)); err != nil {
		return mimeEntity{}, err
	}
	for _, a := range atts {
		var ah message.Header
		params := map[string]string{"name": a.name}
		for k, v := range a.params {
			params[k] = v
		}
		ah.SetContentType(a.contentType, params)
		ah.SetContentDisposition("attachment", map[string]string{"filename": a.name})
		ah.Set("Content-Transfer-Encoding", "base64")
		if err := writePart(mw, ah, a.data); err != nil {
			return mimeEntity{}, err
		}
	}
	if err := mw.Close(); err != nil {
		return mimeEntity{}, err
	}
	return mimeEntity{header: h.Header, body: body.Bytes()}, nil
}

func writePart(mw *message.Writer, h message.Header, data []byte) error {
	pw, err := mw.CreatePart(h)
	if err != nil {
		return err
	}
	if _, err := pw.Write(data); err != nil {
		return err
	}
	return pw.Close()
}

// switchWriter writes to w, which may be changed between writes.
type switchWriter struct{ w io.Writer }

func (s *switchWriter) Write(p []byte) (int, error) { return s.w.Write(p) }

// newBoundary returns a random MIME boundary.
func newBoundary() string { return "focal-" + rand.Text() }
