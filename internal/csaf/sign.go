package csaf

import (
	"bytes"
	"crypto"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// Signer makes detached, ASCII-armoured OpenPGP signatures with the
// team's key. Build it with NewSigner; it holds the decrypted private
// key and is safe for concurrent use.
type Signer struct {
	entity *openpgp.Entity
}

// NewSigner reads an ASCII-armoured private key, decrypting it with
// passphrase when it is protected. Errors never repeat the key or the
// passphrase.
func NewSigner(armored, passphrase string) (*Signer, error) {
	el, err := openpgp.ReadArmoredKeyRing(strings.NewReader(armored))
	if err != nil {
		return nil, errors.New("team key: not an ASCII-armoured OpenPGP private key")
	}
	var e *openpgp.Entity
	for _, x := range el {
		if x.PrivateKey != nil {
			e = x
			break
		}
	}
	if e == nil {
		return nil, errors.New("team key: the block holds no private key")
	}
	fp := fingerprint(e)
	if e.PrivateKey.Encrypted || subkeysEncrypted(e) {
		if passphrase == "" {
			return nil, fmt.Errorf("team key %s is passphrase-protected: set FOCAL_TEAM_KEY_PASSPHRASE", fp)
		}
		if err := e.DecryptPrivateKeys([]byte(passphrase)); err != nil {
			return nil, fmt.Errorf("team key %s: wrong passphrase", fp)
		}
	}
	if k, ok := e.SigningKey(time.Now()); !ok || k.PrivateKey == nil {
		return nil, fmt.Errorf("team key %s has no usable signing key (expired or revoked?)", fp)
	}
	return &Signer{entity: e}, nil
}

func subkeysEncrypted(e *openpgp.Entity) bool {
	for _, s := range e.Subkeys {
		if s.PrivateKey != nil && s.PrivateKey.Encrypted {
			return true
		}
	}
	return false
}

func fingerprint(e *openpgp.Entity) string {
	return strings.ToUpper(fmt.Sprintf("%x", e.PrimaryKey.Fingerprint))
}

// Fingerprint returns the key's fingerprint in upper-case hex.
func (s *Signer) Fingerprint() string { return fingerprint(s.entity) }

// Sign returns a detached ASCII-armoured signature of data.
func (s *Signer) Sign(data []byte) ([]byte, error) {
	var b bytes.Buffer
	cfg := &packet.Config{DefaultHash: crypto.SHA512}
	if err := openpgp.ArmoredDetachSign(&b, s.entity, bytes.NewReader(data), cfg); err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	return b.Bytes(), nil
}

// ClearSign returns data in an OpenPGP cleartext-signed message, as RFC
// 9116 recommends for security.txt.
func (s *Signer) ClearSign(data []byte) ([]byte, error) {
	var b bytes.Buffer
	w, err := clearsignEncode(&b, s.entity)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(data); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// PublicKey returns the key's public part, ASCII-armoured.
func (s *Signer) PublicKey() ([]byte, error) { return armorPublic(s.entity) }

func armorPublic(e *openpgp.Entity) ([]byte, error) {
	var b bytes.Buffer
	w, err := armor.Encode(&b, openpgp.PublicKeyType, nil)
	if err != nil {
		return nil, err
	}
	if err := e.Serialize(w); err != nil {
		return nil, fmt.Errorf("serialise public key: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// GenerateKey creates a new team key pair (Ed25519 signing key with an
// X25519 encryption subkey, valid for lifetime, 0 for no expiry) for
// name and email, and returns the private key ASCII-armoured (encrypted
// with passphrase when it is not empty), the public key and the
// fingerprint.
func GenerateKey(name, email, passphrase string, lifetime time.Duration) (private, public []byte, fpr string, err error) {
	cfg := &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, DefaultHash: crypto.SHA512, KeyLifetimeSecs: uint32(lifetime / time.Second)}
	e, err := openpgp.NewEntity(name, "team key", email, cfg)
	if err != nil {
		return nil, nil, "", fmt.Errorf("generate key: %w", err)
	}
	public, err = armorPublic(e)
	if err != nil {
		return nil, nil, "", err
	}
	if passphrase != "" {
		if err := e.EncryptPrivateKeys([]byte(passphrase), cfg); err != nil {
			return nil, nil, "", fmt.Errorf("encrypt key: %w", err)
		}
	}
	var b bytes.Buffer
	w, err := armor.Encode(&b, openpgp.PrivateKeyType, nil)
	if err != nil {
		return nil, nil, "", err
	}
	if err := e.SerializePrivateWithoutSigning(w, nil); err != nil {
		return nil, nil, "", fmt.Errorf("serialise key: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, nil, "", err
	}
	return b.Bytes(), public, fingerprint(e), nil
}

func clearsignEncode(w *bytes.Buffer, e *openpgp.Entity) (interface {
	Write([]byte) (int, error)
	Close() error
}, error) {
	k, ok := e.SigningKey(time.Now())
	if !ok || k.PrivateKey == nil {
		return nil, errors.New("clearsign: no signing key")
	}
	return clearsign.Encode(w, k.PrivateKey, &packet.Config{DefaultHash: crypto.SHA512})
}

// Verify checks a detached armoured signature of data against an
// armoured public key.
func Verify(armoredPublic, data, signature []byte) error {
	keys, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(armoredPublic))
	if err != nil {
		return fmt.Errorf("verify: read key: %w", err)
	}
	_, err = openpgp.CheckArmoredDetachedSignature(keys, bytes.NewReader(data), bytes.NewReader(signature), nil)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	return nil
}
