package csaf

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Team key files below the data directory, as focal keys init writes
// them.
const (
	KeyDir        = "keys"
	KeyFile       = "team.asc"     // the private key, mode 0600
	PublicKeyFile = "team.pub.asc" // the public key
)

// TeamKeyPath returns the team key file to use: teamKey (--team-key) when
// set, else DATA_DIR/keys/team.asc when it exists, else "".
func TeamKeyPath(teamKey, dataDir string) string {
	if teamKey != "" {
		return teamKey
	}
	if dataDir == "" {
		return ""
	}
	p := filepath.Join(dataDir, KeyDir, KeyFile)
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return ""
}

// LoadTeamKey returns the signer of the team key TeamKeyPath finds, or
// nil (and no error) when there is none. A key that is there but
// unusable (unreadable, wrong passphrase, expired) is an error.
func LoadTeamKey(teamKey, dataDir, passphrase string) (*Signer, error) {
	p := TeamKeyPath(teamKey, dataDir)
	if p == "" {
		return nil, nil
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("team key: %w", err)
	}
	s, err := NewSigner(string(b), passphrase)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return s, nil
}

// WriteTeamKey stores an armoured private key (mode 0600) and its public
// key in DATA_DIR/keys, refusing to replace an existing key unless force.
func WriteTeamKey(dataDir string, private, public []byte, force bool) (string, error) {
	dir := filepath.Join(dataDir, KeyDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("team key: %w", err)
	}
	p := filepath.Join(dir, KeyFile)
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(p, flags, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("%s exists: the team key is already set (use --force to replace it; published signatures then no longer verify with the published key)", p)
	}
	if err != nil {
		return "", fmt.Errorf("team key: %w", err)
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return "", fmt.Errorf("team key: %w", err)
	}
	if _, err := f.Write(private); err != nil {
		f.Close()
		return "", fmt.Errorf("team key: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("team key: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, PublicKeyFile), public, 0o644); err != nil {
		return "", fmt.Errorf("team key: %w", err)
	}
	return p, nil
}
