package store

// special.go: the R17 facts of a person (pregnancy, nursing her own infant
// under one), sealed at rest as health data (R36); the minor flag comes
// from the birth date. See casework/special.go for what they change.

import (
	"context"
	"encoding/json"
	"fmt"

	"kangfu/internal/casework"
)

// openSpecial opens a person's sealed R17 facts (zero when none).
func (db *DB) openSpecial(r *personRow) (casework.SpecialFacts, error) {
	var f casework.SpecialFacts
	s, err := db.vault.Open(r.specialEnc, sealCtx("special", r.ID))
	if err != nil || s == "" {
		return f, err
	}
	if err := json.Unmarshal([]byte(s), &f); err != nil {
		return f, fmt.Errorf("special facts of %s: %w", r.ID, err)
	}
	return f, nil
}

// specialOn loads a person's R17 status on day, whoever acts (the checks of
// a forced test and of a police decision need it).
func (tx *Tx) specialOn(ctx context.Context, personID string, day casework.Date) (casework.SpecialStatus, error) {
	r, err := scanPerson(tx.QueryRow(ctx, `SELECT `+personColumns+personFrom+` WHERE p.id = ?`, personID))
	if err != nil {
		return casework.SpecialStatus{}, notFound(err, "人员档案", "person")
	}
	f, err := tx.db.openSpecial(r)
	if err != nil {
		return casework.SpecialStatus{}, err
	}
	return casework.SpecialOn(f, r.BirthDate, day), nil
}

// SetSpecial records a person's R17 facts (pregnancy with the expected and
// actual delivery dates; her own infant's birth date while nursing), sealed.
// Needs write access to the file; audited without the values; the
// timeline says only that they changed.
func (db *DB) SetSpecial(ctx context.Context, actor *casework.Actor, personID string, f casework.SpecialFacts) (*casework.Person, error) {
	err := db.Write(ctx, func(tx *Tx) error {
		r, err := tx.personFor(ctx, actor, personID, canWrite)
		if err != nil {
			return err
		}
		org, err := tx.orgByID(ctx, r.OrgID)
		if err != nil {
			return err
		}
		if err := f.Validate(r.Sex, tx.today(org)); err != nil {
			return err
		}
		sealed := ""
		if !f.IsZero() {
			b, err := json.Marshal(f)
			if err != nil {
				return err
			}
			if sealed, err = db.vault.Seal(string(b), sealCtx("special", personID)); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE persons SET special_enc = ?, updated_at = ? WHERE id = ?`, sealed, tx.now, personID); err != nil {
			return err
		}
		if err := tx.event(ctx, actor, personID, r.OrgID, "person.special", nil); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "person.special", TargetType: "person", TargetID: personID, OrgID: r.OrgID})
	})
	if err != nil {
		return nil, err
	}
	return db.GetPerson(ctx, actor, personID, "")
}
