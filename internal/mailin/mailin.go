// Package mailin turns e-mail into incident reports. Intake.Deliver takes
// one raw message (from the SMTP listener or a file): a message whose
// subject carries an incident reference such as [FOC-2026-000042] is
// threaded into that incident's journal; any other message opens a new
// incident with the sender as reporter, its text as description and its
// attachments stored by hash. A message that cannot be parsed is never
// dropped: its raw bytes are kept in the quarantine for handlers to review,
// and the sender is told so.
//
// An Intake is safe for concurrent use once its fields are set.
package mailin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // decode non-UTF-8 charsets
	"github.com/emersion/go-message/mail"

	attachmentpkg "focal/internal/attachment"
	"focal/internal/focal"
	"focal/internal/store"
)

// DefaultMaxBytes bounds one message.
const DefaultMaxBytes = 10 << 20

// maxDescription bounds the text kept as the incident's description.
const maxDescription = 150_000

// refRE finds an incident reference in a subject.
var refRE = regexp.MustCompile(`(?i)\bFOC-\d{4}-\d{6}\b`)

// Intake files e-mail into the store.
type Intake struct {
	Store   *store.Store
	Logger  *slog.Logger
	DataDir string // attachments/ and quarantine/mail/ are created below it
	// Extract finds observables in a report's text; nil extracts none.
	Extract  func(text string) []focal.Observable
	MaxBytes int64 // 0 = DefaultMaxBytes
}

// Result says what Deliver did with a message.
type Result struct {
	IncidentID   int64
	Ref          string // the incident's reference
	Threaded     bool   // added to an existing incident's journal
	QuarantineID int64  // set when the message was quarantined
	Reason       string // why it was quarantined
}

// Deliver processes one raw message from the envelope sender from.
func (in *Intake) Deliver(ctx context.Context, from string, raw []byte) (Result, error) {
	ctx = focal.NewContextWithRemote(focal.NewContextWithPrincipal(ctx, focal.Intake("mail-intake")), "smtp")
	max := in.MaxBytes
	if max <= 0 {
		max = DefaultMaxBytes
	}
	if int64(len(raw)) > max {
		return in.quarantine(ctx, from, raw, fmt.Sprintf("message of %d bytes is over the %d-byte limit", len(raw), max))
	}
	msg, err := parse(raw)
	if err != nil {
		return in.quarantine(ctx, from, raw, err.Error())
	}
	sender := msg.fromAddr
	if sender == "" {
		sender = from
	}
	if ref := refRE.FindString(msg.subject); ref != "" {
		id, err := in.Store.IncidentIDByRef(ctx, ref)
		if err == nil {
			body := fmt.Sprintf("From: %s\nSubject: %s\n\n%s", sender, msg.subject, msg.text)
			if err := in.Store.AddJournal(ctx, id, "email_in", "", body); err != nil {
				return Result{}, err
			}
			if err := in.storeAttachments(ctx, id, msg.attachments); err != nil {
				return Result{}, err
			}
			return Result{IncidentID: id, Ref: strings.ToUpper(ref), Threaded: true}, nil
		}
		if focal.ErrorCode(err) != focal.ENOTFOUND {
			return Result{}, err
		}
		// An unknown reference opens a new incident; the subject keeps it.
	}
	title := strings.TrimSpace(msg.subject)
	if title == "" {
		title = "E-mail report from " + sender
	}
	if len(title) > 300 {
		title = title[:297] + "…"
	}
	i := &focal.Incident{Title: title, Description: msg.text, Channel: "email",
		Reporter: focal.Reporter{Name: msg.fromName, Email: validEmail(sender)}}
	var obs []focal.Observable
	if in.Extract != nil {
		obs = in.Extract(msg.subject + "\n" + msg.text)
	}
	if err := in.Store.CreateIncident(ctx, i, obs); err != nil {
		return Result{}, err
	}
	if err := in.storeAttachments(ctx, i.ID, msg.attachments); err != nil {
		return Result{}, err
	}
	return Result{IncidentID: i.ID, Ref: i.Ref}, nil
}

func validEmail(e string) string {
	if focal.ValidateEmail(e) != nil {
		return ""
	}
	return e
}

// quarantine keeps raw under DataDir/quarantine/mail and records it.
func (in *Intake) quarantine(ctx context.Context, from string, raw []byte, reason string) (Result, error) {
	sum := sha256.Sum256(raw)
	hexsum := hex.EncodeToString(sum[:])
	rel := filepath.Join("quarantine", "mail", time.Now().UTC().Format("20060102T150405")+"-"+hexsum[:16]+".eml")
	if err := writeFile(filepath.Join(in.DataDir, rel), raw); err != nil {
		return Result{}, fmt.Errorf("quarantine: %w", err)
	}
	q := &store.QuarantineItem{Source: "smtp", Sender: from, Reason: reason, Size: int64(len(raw)), SHA256: hexsum, Path: rel}
	if err := in.Store.Quarantine(ctx, q); err != nil {
		return Result{}, err
	}
	in.Logger.Warn("e-mail quarantined", "id", q.ID, "from", from, "reason", reason, "size", len(raw))
	return Result{QuarantineID: q.ID, Reason: reason}, nil
}

func (in *Intake) storeAttachments(ctx context.Context, incidentID int64, atts []attachment) error {
	files := &attachmentpkg.Store{Dir: filepath.Join(in.DataDir, "attachments")}
	for _, a := range atts {
		saved, err := files.SaveBytes(a.data, "")
		if err != nil {
			return fmt.Errorf("attachment %q: %w", a.name, err)
		}
		// The sender's declared type is kept as said; the sniffed one is
		// what the bytes are, and what a handler downloads.
		rec := &store.Attachment{IncidentID: incidentID, Name: a.name, ContentType: saved.ContentType, Size: saved.Size, SHA256: saved.SHA256}
		if err := in.Store.AddAttachment(ctx, rec); err != nil {
			return err
		}
		if in.Extract == nil {
			continue
		}
		text, ok, err := files.Text(saved.SHA256, saved.ContentType)
		if err != nil {
			return fmt.Errorf("attachment %q: %w", a.name, err)
		}
		if ok {
			if _, err := in.Store.AddObservables(ctx, incidentID, in.Extract(text), "attachment "+a.name); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeFile writes data atomically (temp file, then rename), mode 0600.
func writeFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		return errors.Join(err, os.Remove(f.Name()))
	}
	return os.Rename(f.Name(), path)
}

// parsed is what focal keeps of a message.
type parsed struct {
	subject     string
	fromAddr    string
	fromName    string
	text        string
	attachments []attachment
}

type attachment struct {
	name, contentType string
	data              []byte
}

// maxParts bounds the MIME parts read from one message.
const maxParts = 100

// parse reads a message: the headers, the first text/plain part (or text
// of the first text/html part, tags stripped) and attachments.
func parse(raw []byte) (*parsed, error) {
	mr, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
		return nil, fmt.Errorf("not a parseable e-mail message: %v", err)
	}
	if mr == nil {
		return nil, errors.New("not a parseable e-mail message")
	}
	defer mr.Close()
	p := &parsed{}
	if p.subject, err = mr.Header.Subject(); err != nil {
		p.subject = mr.Header.Get("Subject")
	}
	if addrs, err := mr.Header.AddressList("From"); err == nil && len(addrs) > 0 {
		p.fromAddr, p.fromName = addrs[0].Address, addrs[0].Name
	}
	if mr.Header.Get("From") == "" && mr.Header.Get("Subject") == "" && mr.Header.Get("Date") == "" {
		return nil, errors.New("no From, Subject or Date header: not an e-mail message")
	}
	var html string
	for n := 0; ; n++ {
		if n >= maxParts {
			return nil, fmt.Errorf("more than %d MIME parts", maxParts)
		}
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			if message.IsUnknownCharset(err) || message.IsUnknownEncoding(err) {
				continue
			}
			return nil, fmt.Errorf("MIME part %d: %v", n+1, err)
		}
		body, err := io.ReadAll(io.LimitReader(part.Body, DefaultMaxBytes+1))
		if err != nil {
			return nil, fmt.Errorf("MIME part %d: %v", n+1, err)
		}
		switch h := part.Header.(type) {
		case *mail.InlineHeader:
			ct, _, _ := h.ContentType()
			switch {
			case ct == "text/plain" && p.text == "":
				p.text = string(body)
			case ct == "text/html" && html == "":
				html = string(body)
			case ct != "text/plain" && ct != "text/html":
				p.attachments = append(p.attachments, attachment{name: fmt.Sprintf("part-%d", n+1), contentType: ct, data: body})
			}
		case *mail.AttachmentHeader:
			name, err := h.Filename()
			if err != nil || name == "" {
				name = fmt.Sprintf("attachment-%d", n+1)
			}
			ct, _, _ := h.ContentType()
			if ct == "" {
				ct = "application/octet-stream"
			}
			p.attachments = append(p.attachments, attachment{name: cleanName(name), contentType: ct, data: body})
		}
	}
	if p.text == "" && html != "" {
		p.text = stripTags(html)
	}
	if !utf8.ValidString(p.text) {
		p.text = strings.ToValidUTF8(p.text, "\uFFFD")
	}
	if len(p.text) > maxDescription {
		p.text = p.text[:maxDescription] + "\n[… truncated; the full message is in the journal attachments]"
	}
	p.text = strings.TrimSpace(p.text)
	return p, nil
}

// cleanName keeps a file name displayable and path-free.
func cleanName(name string) string {
	if dec, err := new(mime.WordDecoder).DecodeHeader(name); err == nil {
		name = dec
	}
	name = filepath.Base(strings.ReplaceAll(name, "\\", "/"))
	if len(name) > 200 {
		name = name[:200]
	}
	return strings.ToValidUTF8(name, "_")
}

var tagRE = regexp.MustCompile(`(?s)<(script|style)[^>]*>.*?</(script|style)>|<[^>]+>`)

// stripTags turns HTML into rough text for the description.
func stripTags(html string) string {
	t := tagRE.ReplaceAllString(html, " ")
	r := strings.NewReplacer("&nbsp;", " ", "&amp;", "&", "&lt;", "<", "&gt;", ">", "&quot;", `"`, "&#39;", "'")
	return strings.Join(strings.Fields(r.Replace(t)), " ")
}
