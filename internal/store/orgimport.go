package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"focal/internal/focal"
)

// ImportOrganisations stores orgs in one transaction: all of them or, on
// any error, none. An organisation whose name (regardless of case) is
// already taken is skipped, or, when replace is set, updated in place,
// keeping its id. Each change is audited like CreateOrganisation and
// UpdateOrganisation do. Each org is normalised and validated first; names
// must be unique within orgs.
//
// On success created and updated organisations have their ID and times
// set, and skipped ones are left with ID 0. On error the IDs mean nothing.
func (s *Store) ImportOrganisations(ctx context.Context, orgs []*focal.Organisation, replace bool) (created, updated, skipped int, err error) {
	if err := authorize(ctx, focal.ActionCreate, focal.Resource{Kind: focal.KindOrganisation}); err != nil {
		return 0, 0, 0, err
	}
	if replace {
		if err := authorize(ctx, focal.ActionUpdate, focal.Resource{Kind: focal.KindOrganisation}); err != nil {
			return 0, 0, 0, err
		}
	}
	names := make(map[string]bool, len(orgs))
	for _, o := range orgs {
		o.Normalize()
		if err := o.Validate(); err != nil {
			return 0, 0, 0, fmt.Errorf("import organisation %q: %w", o.Name, err)
		}
		key := strings.ToLower(o.Name)
		if names[key] {
			return 0, 0, 0, focal.FieldErrorf("name", "%q appears twice in the import", o.Name)
		}
		names[key] = true
	}
	err = s.WithTx(ctx, func(tx *Tx) error {
		created, updated, skipped = 0, 0, 0
		for _, o := range orgs {
			o.ID = 0
			var id int64
			err := tx.QueryRowContext(ctx, "SELECT id FROM organisations WHERE name_key = $1", strings.ToLower(o.Name)).Scan(&id)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				if err := tx.createOrganisation(ctx, o); err != nil {
					return fmt.Errorf("import organisation %q: %w", o.Name, err)
				}
				created++
				continue
			case err != nil:
				return fmt.Errorf("import organisation %q: %w", o.Name, err)
			case !replace:
				skipped++
				continue
			}
			before, err := tx.organisation(ctx, id)
			if err != nil {
				return fmt.Errorf("import organisation %q: %w", o.Name, err)
			}
			o.ID = id
			if err := tx.updateOrganisation(ctx, before, o); err != nil {
				return fmt.Errorf("import organisation %q: %w", o.Name, err)
			}
			updated++
		}
		return nil
	})
	if err != nil {
		return 0, 0, 0, err
	}
	return created, updated, skipped, nil
}
