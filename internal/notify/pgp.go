package notify

import (
	"bytes"
	"crypto"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/emersion/go-message/textproto"
)

// recipientKeys are the parsed OpenPGP public keys of a policy.
type recipientKeys = openpgp.EntityList

// micalg names the hash of the detached signatures (RFC 3156 §5); it must
// match pgpConfig's DefaultHash.
const micalg = "pgp-sha256"

// pgpConfig returns the OpenPGP settings of messages built at now:
// SHA-256 signatures, AES-256, no compression, SEIPDv1 (read by every
// OpenPGP implementation in use).
func pgpConfig(now time.Time) *packet.Config {
	return &packet.Config{
		DefaultHash:   crypto.SHA256,
		DefaultCipher: packet.CipherAES256,
		Time:          func() time.Time { return now },
	}
}

// parseRecipientKeys reads one or more ASCII-armoured public key blocks
// and checks that every key can receive encrypted mail at now.
func parseRecipientKeys(armored string, now time.Time) (recipientKeys, error) {
	blocks := splitArmor(armored)
	if len(blocks) == 0 {
		return nil, errors.New("not an ASCII-armoured OpenPGP public key (want a block starting with -----BEGIN PGP PUBLIC KEY BLOCK-----)")
	}
	var all recipientKeys
	for i, b := range blocks {
		prefix := ""
		if len(blocks) > 1 {
			prefix = fmt.Sprintf("key block %d: ", i+1)
		}
		if strings.HasPrefix(b, "-----BEGIN PGP PRIVATE KEY BLOCK-----") {
			return nil, fmt.Errorf("%sthis is a private key: give the public key only, and keep the private key secret", prefix)
		}
		el, err := openpgp.ReadArmoredKeyRing(strings.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("%scannot read the key: %v", prefix, err)
		}
		for _, e := range el {
			if e.PrivateKey != nil {
				return nil, fmt.Errorf("%sthis is a private key: give the public key only, and keep the private key secret", prefix)
			}
			if err := checkEncryptionKey(e, now); err != nil {
				return nil, fmt.Errorf("%s%v", prefix, err)
			}
		}
		all = append(all, el...)
	}
	return all, nil
}

// splitArmor splits concatenated armoured blocks.
func splitArmor(s string) []string {
	const begin = "-----BEGIN PGP "
	var out []string
	for {
		i := strings.Index(s, begin)
		if i < 0 {
			return out
		}
		s = s[i:]
		j := strings.Index(s[len(begin):], begin)
		if j < 0 {
			return append(out, s)
		}
		out = append(out, s[:len(begin)+j])
		s = s[len(begin)+j:]
	}
}

// checkEncryptionKey says why e cannot receive encrypted mail at now, if
// it cannot.
func checkEncryptionKey(e *openpgp.Entity, now time.Time) error {
	id := keyID(e)
	sig, ident := e.PrimarySelfSignature()
	switch {
	case sig == nil:
		return fmt.Errorf("key %s has no valid self-signature", id)
	case e.Revoked(now):
		return fmt.Errorf("key %s is revoked", id)
	case ident != nil && ident.Revoked(now):
		return fmt.Errorf("key %s: its user ID is revoked", id)
	case e.PrimaryKey.CreationTime.After(now):
		return fmt.Errorf("key %s is not valid yet: it was created %s", id, e.PrimaryKey.CreationTime.UTC().Format(time.RFC3339))
	case e.PrimaryKey.KeyExpired(sig, now):
		exp := e.PrimaryKey.CreationTime.Add(time.Duration(*sig.KeyLifetimeSecs) * time.Second)
		return fmt.Errorf("key %s expired on %s", id, exp.UTC().Format("2006-01-02"))
	case sig.SigExpired(now):
		return fmt.Errorf("key %s: its self-signature has expired", id)
	}
	if _, ok := e.EncryptionKey(now); !ok {
		return fmt.Errorf("key %s has no usable encryption key (it is a signing-only key, or its encryption subkeys are expired or revoked)", id)
	}
	return nil
}

// keyID returns the key's fingerprint in upper-case hex.
func keyID(e *openpgp.Entity) string {
	return strings.ToUpper(fmt.Sprintf("%x", e.PrimaryKey.Fingerprint))
}

// Signer signs messages with the team's OpenPGP key. Build it with
// NewSigner; it holds the decrypted private key in memory. It is safe for
// concurrent use.
type Signer struct {
	entity *openpgp.Entity
}

// NewSigner reads an ASCII-armoured private key, decrypting it with
// passphrase when it is protected. The errors say what is wrong without
// repeating the key or the passphrase.
func NewSigner(armoredKey, passphrase string) (*Signer, error) {
	el, err := openpgp.ReadArmoredKeyRing(strings.NewReader(armoredKey))
	if err != nil {
		return nil, errors.New("signing key: not an ASCII-armoured OpenPGP private key")
	}
	var e *openpgp.Entity
	for _, x := range el {
		if x.PrivateKey != nil {
			e = x
			break
		}
	}
	if e == nil {
		return nil, errors.New("signing key: the block holds no private key")
	}
	if encrypted(e) {
		if passphrase == "" {
			return nil, fmt.Errorf("signing key %s is passphrase-protected: set its passphrase", keyID(e))
		}
		if err := e.DecryptPrivateKeys([]byte(passphrase)); err != nil {
			return nil, fmt.Errorf("signing key %s: wrong passphrase", keyID(e))
		}
	}
	now := time.Now()
	if k, ok := e.SigningKey(now); !ok || k.PrivateKey == nil {
		return nil, fmt.Errorf("signing key %s has no usable signing key (expired or revoked?)", keyID(e))
	}
	return &Signer{entity: e}, nil
}

func encrypted(e *openpgp.Entity) bool {
	if e.PrivateKey != nil && e.PrivateKey.Encrypted {
		return true
	}
	for _, s := range e.Subkeys {
		if s.PrivateKey != nil && s.PrivateKey.Encrypted {
			return true
		}
	}
	return false
}

// Fingerprint returns the signing key's fingerprint in upper-case hex.
func (s *Signer) Fingerprint() string { return keyID(s.entity) }

// PublicKey returns the signing key's public part, ASCII-armoured, for
// publication (e.g. on the team's website and in its RFC 2350 profile).
func (s *Signer) PublicKey() (string, error) {
	var b bytes.Buffer
	w, err := armor.Encode(&b, openpgp.PublicKeyType, nil)
	if err != nil {
		return "", err
	}
	if err := s.entity.Serialize(w); err != nil {
		return "", fmt.Errorf("serialise public key: %w", err)
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	return b.String(), nil
}

// mimeEntity is a MIME entity: its header fields and its encoded body.
type mimeEntity struct {
	header textproto.Header
	body   []byte
}

// bytes returns the entity as it appears in a message.
func (m mimeEntity) bytes() ([]byte, error) {
	var b bytes.Buffer
	if err := textproto.WriteHeader(&b, m.header); err != nil {
		return nil, err
	}
	b.Write(m.body)
	return b.Bytes(), nil
}

// sign wraps m in a multipart/signed entity (RFC 3156 §5): m as the first
// part, exactly as signed, and the armoured detached signature over it as
// the second.
func (s *Signer) sign(m mimeEntity, now time.Time) (mimeEntity, error) {
	signed, err := m.bytes()
	if err != nil {
		return mimeEntity{}, err
	}
	var sig bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&sig, s.entity, bytes.NewReader(signed), pgpConfig(now)); err != nil {
		return mimeEntity{}, fmt.Errorf("sign: %w", err)
	}
	var sh textproto.Header
	sh.Set("Content-Type", `application/pgp-signature; name="signature.asc"`)
	sh.Set("Content-Description", "OpenPGP digital signature")
	sh.Set("Content-Disposition", `attachment; filename="signature.asc"`)
	boundary := newBoundary()
	var h textproto.Header
	h.Set("Content-Type", fmt.Sprintf(`multipart/signed; micalg=%s; protocol="application/pgp-signature"; boundary="%s"`, micalg, boundary))
	body, err := multipartBody(boundary, m, mimeEntity{header: sh, body: crlf(sig.Bytes())})
	if err != nil {
		return mimeEntity{}, err
	}
	return mimeEntity{header: h, body: body}, nil
}

// encrypt wraps m in a multipart/encrypted entity (RFC 3156 §4): the
// version part, then m encrypted to keys, armoured.
func encrypt(m mimeEntity, keys recipientKeys, now time.Time) (mimeEntity, error) {
	plain, err := m.bytes()
	if err != nil {
		return mimeEntity{}, err
	}
	var ct bytes.Buffer
	aw, err := armor.Encode(&ct, "PGP MESSAGE", nil)
	if err != nil {
		return mimeEntity{}, err
	}
	pw, err := openpgp.Encrypt(aw, keys, nil, &openpgp.FileHints{IsBinary: true}, pgpConfig(now))
	if err != nil {
		return mimeEntity{}, fmt.Errorf("encrypt: %w", err)
	}
	if _, err := pw.Write(plain); err != nil {
		return mimeEntity{}, fmt.Errorf("encrypt: %w", err)
	}
	if err := pw.Close(); err != nil {
		return mimeEntity{}, fmt.Errorf("encrypt: %w", err)
	}
	if err := aw.Close(); err != nil {
		return mimeEntity{}, fmt.Errorf("encrypt: %w", err)
	}
	ct.WriteString("\n")

	var vh textproto.Header
	vh.Set("Content-Type", "application/pgp-encrypted")
	vh.Set("Content-Description", "PGP/MIME version identification")
	var dh textproto.Header
	dh.Set("Content-Type", `application/octet-stream; name="encrypted.asc"`)
	dh.Set("Content-Description", "OpenPGP encrypted message")
	dh.Set("Content-Disposition", `inline; filename="encrypted.asc"`)
	boundary := newBoundary()
	var h textproto.Header
	h.Set("Content-Type", fmt.Sprintf(`multipart/encrypted; protocol="application/pgp-encrypted"; boundary="%s"`, boundary))
	body, err := multipartBody(boundary,
		mimeEntity{header: vh, body: []byte("Version: 1\r\n")},
		mimeEntity{header: dh, body: crlf(ct.Bytes())})
	if err != nil {
		return mimeEntity{}, err
	}
	return mimeEntity{header: h, body: body}, nil
}

// multipartBody joins parts with boundary, each written verbatim.
func multipartBody(boundary string, parts ...mimeEntity) ([]byte, error) {
	var b bytes.Buffer
	mw := textproto.NewMultipartWriter(&b)
	if err := mw.SetBoundary(boundary); err != nil {
		return nil, err
	}
	for _, p := range parts {
		w, err := mw.CreatePart(p.header)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(p.body); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// crlf turns LF line endings (as the armour encoder writes them) into CRLF.
func crlf(b []byte) []byte {
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
}
