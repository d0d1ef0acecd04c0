package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"focal/internal/focal"
)

const profileKey = "team_profile"

// TeamProfile returns the team's published profile (RFC 2350 fields). It
// is public information: anyone may read it. ENOTFOUND until a
// coordinator sets one.
func (s *Store) TeamProfile(ctx context.Context) (*focal.TeamProfile, error) {
	v, err := s.Meta(ctx, profileKey)
	if err != nil {
		return nil, err
	}
	var p focal.TeamProfile
	if err := json.Unmarshal([]byte(v), &p); err != nil {
		return nil, fmt.Errorf("team profile: %w", err)
	}
	return &p, nil
}

// SetTeamProfile validates and stores the team's profile, stamping its
// date of last update. Coordinators only; the change is audited.
func (s *Store) SetTeamProfile(ctx context.Context, p *focal.TeamProfile) error {
	if err := authorize(ctx, focal.ActionUpdate, focal.Resource{Kind: focal.KindSharing}); err != nil {
		return err
	}
	p.Normalize()
	if err := p.Validate(); err != nil {
		return err
	}
	p.LastUpdated = time.Now().UTC().Truncate(time.Second)
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("team profile: %w", err)
	}
	before, _ := s.TeamProfile(ctx)
	return s.WithTx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO focal_meta (key, value) VALUES ($1, $2)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, profileKey, string(b)); err != nil {
			return fmt.Errorf("set team profile: %w", err)
		}
		return tx.audit(ctx, "update", "team_profile", "team", before, p)
	})
}
