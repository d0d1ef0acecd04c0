package notify

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/emersion/go-message"
)

// pgpFixture is a team signing key and a recipient key.
type pgpFixture struct {
	signer    *Signer
	teamRing  openpgp.EntityList // the team's public key, as a recipient knows it
	recipient *openpgp.Entity    // with its private key
}

func newPGPFixture(t *testing.T) pgpFixture {
	t.Helper()
	now := time.Now()
	team := newKey(t, "cert@cert.example", keyConfig(now.Add(-time.Hour), 0))
	teamPub := armorPublic(t, team)
	signer, err := NewSigner(armorPrivate(t, team, "correct horse battery"), "correct horse battery")
	if err != nil {
		t.Fatalf("NewSigner() = %v", err)
	}
	ring, err := openpgp.ReadArmoredKeyRing(strings.NewReader(teamPub))
	if err != nil {
		t.Fatal(err)
	}
	return pgpFixture{signer: signer, teamRing: ring, recipient: newKey(t, "abuse@telecom.example", keyConfig(now.Add(-time.Hour), 0))}
}

func TestPGPSignAndEncrypt(t *testing.T) {
	fx := newPGPFixture(t)
	team := testTeam()
	team.Signer = fx.signer
	p := testPolicy()
	p.RecipientKey = armorPublic(t, fx.recipient)
	msgs, err := Build(testOrg(), p, manyEvents(3), team, time.Now())
	if err != nil {
		t.Fatalf("Build() = %v", err)
	}
	m := msgs[0]
	if !m.Signed || !m.Encrypted {
		t.Errorf("Signed, Encrypted = %v, %v; want true, true", m.Signed, m.Encrypted)
	}

	// The outer message: multipart/encrypted (RFC 3156 §4), the TLP label
	// still in the clear subject.
	top, err := message.Read(bytes.NewReader(m.Raw))
	if err != nil {
		t.Fatal(err)
	}
	if s := top.Header.Get("Subject"); !strings.HasPrefix(s, "[TLP:AMBER] ") {
		t.Errorf("Subject = %q, want the TLP label in the clear", s)
	}
	mt, params, err := top.Header.ContentType()
	if err != nil || mt != "multipart/encrypted" || params["protocol"] != "application/pgp-encrypted" {
		t.Fatalf("Content-Type = %s %v (%v), want multipart/encrypted; protocol=application/pgp-encrypted", mt, params, err)
	}
	parts := readParts(t, top)
	if len(parts) != 2 {
		t.Fatalf("multipart/encrypted has %d parts, want 2", len(parts))
	}
	if ct, _, _ := parts[0].header.ContentType(); ct != "application/pgp-encrypted" || !strings.Contains(string(parts[0].body), "Version: 1") {
		t.Errorf("first part = %s %q, want application/pgp-encrypted Version: 1", ct, parts[0].body)
	}
	if ct, _, _ := parts[1].header.ContentType(); ct != "application/octet-stream" {
		t.Errorf("second part = %s, want application/octet-stream", ct)
	}
	block, err := armor.Decode(bytes.NewReader(parts[1].body))
	if err != nil || block.Type != "PGP MESSAGE" {
		t.Fatalf("armor.Decode() = %v, %v; want a PGP MESSAGE", block, err)
	}
	md, err := openpgp.ReadMessage(block.Body, openpgp.EntityList{fx.recipient}, nil, nil)
	if err != nil {
		t.Fatalf("decrypt: %v", err)
	}
	plain, err := io.ReadAll(md.UnverifiedBody)
	if err != nil {
		t.Fatalf("decrypt: %v", err)
	}
	if !md.IsEncrypted {
		t.Errorf("the message was not encrypted")
	}

	// Inside: multipart/signed (RFC 3156 §5) whose signature verifies
	// with the team's public key.
	signed := verifySigned(t, plain, fx.teamRing)
	pm := parseMessage(t, signed)
	if !strings.HasPrefix(pm.text, "TLP:AMBER\r\n") {
		t.Errorf("decrypted body does not start with the TLP label: %q", pm.text[:min(30, len(pm.text))])
	}
	if recs := readCSV(t, pm.files[m.Reference+".csv"]); len(recs) != 4 {
		t.Errorf("decrypted CSV has %d records, want 4", len(recs))
	}
}

func TestPGPSignOnly(t *testing.T) {
	fx := newPGPFixture(t)
	team := testTeam()
	team.Signer = fx.signer
	msgs, err := Build(testOrg(), testPolicy(), manyEvents(2), team, time.Now())
	if err != nil {
		t.Fatalf("Build() = %v", err)
	}
	if !msgs[0].Signed || msgs[0].Encrypted {
		t.Errorf("Signed, Encrypted = %v, %v; want true, false", msgs[0].Signed, msgs[0].Encrypted)
	}
	signed := verifySigned(t, msgs[0].Raw, fx.teamRing)
	pm := parseMessage(t, signed)
	mustContain(t, "body", pm.text, "Dear Example Telecom")

	// Any change to the signed part breaks the signature.
	tampered := bytes.Replace(msgs[0].Raw, []byte("Dear Example"), []byte("Dear Exampl3"), 1)
	if bytes.Equal(tampered, msgs[0].Raw) {
		t.Fatal("nothing tampered")
	}
	part, sig := splitSigned(t, tampered)
	if _, err := openpgp.CheckArmoredDetachedSignature(fx.teamRing, bytes.NewReader(part), bytes.NewReader(sig), nil); err == nil {
		t.Errorf("a tampered message verifies")
	}
}

func TestNewSigner(t *testing.T) {
	now := time.Now()
	key := newKey(t, "cert@cert.example", keyConfig(now.Add(-time.Hour), 0))
	pub := armorPublic(t, key)
	protected := armorPrivate(t, key, "s3cret-passphrase")
	tests := []struct {
		name, key, pass, want string
	}{
		{"wrong-passphrase", protected, "guess", "wrong passphrase"},
		{"no-passphrase", protected, "", "passphrase-protected"},
		{"public-key", pub, "", "no private key"},
		{"garbage", "hello", "", "not an ASCII-armoured OpenPGP private key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewSigner(tt.key, tt.pass)
			if err == nil {
				t.Fatalf("NewSigner() = nil error, want %q", tt.want)
			}
			mustContain(t, "NewSigner()", err.Error(), tt.want)
			if tt.pass != "" && strings.Contains(err.Error(), tt.pass) {
				t.Errorf("NewSigner() error %q shows the passphrase", err)
			}
		})
	}
	s, err := NewSigner(protected, "s3cret-passphrase")
	if err != nil {
		t.Fatalf("NewSigner() = %v", err)
	}
	if s.Fingerprint() != keyID(key) {
		t.Errorf("Fingerprint() = %s, want %s", s.Fingerprint(), keyID(key))
	}
	if p, err := s.PublicKey(); err != nil || !strings.HasPrefix(p, "-----BEGIN PGP PUBLIC KEY BLOCK-----") {
		t.Errorf("PublicKey() = %.40q, %v", p, err)
	}
}

// verifySigned checks a multipart/signed entity against ring and returns
// its signed part.
func verifySigned(t *testing.T, raw []byte, ring openpgp.EntityList) []byte {
	t.Helper()
	ent, err := message.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := ent.Header.ContentType()
	if err != nil || mt != "multipart/signed" || params["protocol"] != "application/pgp-signature" || params["micalg"] != "pgp-sha256" {
		t.Fatalf("Content-Type = %s %v (%v), want multipart/signed; micalg=pgp-sha256; protocol=application/pgp-signature", mt, params, err)
	}
	part, sig := splitSigned(t, raw)
	signer, err := openpgp.CheckArmoredDetachedSignature(ring, bytes.NewReader(part), bytes.NewReader(sig), nil)
	if err != nil {
		t.Fatalf("signature does not verify: %v", err)
	}
	if signer.PrimaryKey.KeyId != ring[0].PrimaryKey.KeyId {
		t.Errorf("signed by %X, want %X", signer.PrimaryKey.KeyId, ring[0].PrimaryKey.KeyId)
	}
	return part
}

// splitSigned cuts a multipart/signed entity as a verifier does: the
// first part's bytes exactly as they stand between the boundaries, and
// the armoured signature of the second.
func splitSigned(t *testing.T, raw []byte) (part, sig []byte) {
	t.Helper()
	ent, err := message.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	_, params, _ := ent.Header.ContentType()
	delim := []byte("--" + params["boundary"])
	headerEnd := bytes.Index(raw, []byte("\r\n\r\n"))
	body := raw[headerEnd+4:]
	i := bytes.Index(body, append(append([]byte{}, delim...), '\r', '\n'))
	if i < 0 {
		t.Fatal("no first boundary")
	}
	rest := body[i+len(delim)+2:]
	j := bytes.Index(rest, append([]byte("\r\n"), delim...))
	if j < 0 {
		t.Fatal("no second boundary")
	}
	part = rest[:j]
	sigEntity, err := message.Read(bytes.NewReader(rest[j+2+len(delim)+2:]))
	if err != nil {
		t.Fatal(err)
	}
	if ct, _, _ := sigEntity.Header.ContentType(); ct != "application/pgp-signature" {
		t.Fatalf("second part = %s, want application/pgp-signature", ct)
	}
	sig, err = io.ReadAll(sigEntity.Body)
	if err != nil {
		t.Fatal(err)
	}
	return part, sig
}

type rawPart struct {
	header message.Header
	body   []byte
}

func readParts(t *testing.T, e *message.Entity) []rawPart {
	t.Helper()
	mr := e.MultipartReader()
	if mr == nil {
		t.Fatal("not multipart")
	}
	var out []rawPart
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(p.Body)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rawPart{header: p.Header, body: b})
	}
}
