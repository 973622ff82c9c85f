package store

import (
	"context"
	"database/sql"
	"errors"

	"kangfu/internal/casework"
)

// deviceLang is the stored form of an app language: English or Chinese
// (the default, and anything else).
func deviceLang(lang string) string {
	if lang == "en" {
		return "en"
	}
	return "zh"
}

// SetDeviceLang records the language the person switched the app to
// (issue 18 item 13), so notices the server words afterwards are in it. It
// is EINVALID for a language other than zh or en, ENOTFOUND for a device
// that is unknown or retired.
func (db *DB) SetDeviceLang(ctx context.Context, deviceID, lang string) error {
	if lang != "zh" && lang != "en" {
		return casework.Invalid("lang", "语言应为 zh 或 en", "the language must be zh or en")
	}
	var personID string
	err := db.Write(ctx, func(tx *Tx) error {
		if err := tx.QueryRow(ctx, `SELECT person_id FROM devices WHERE id = ? AND retired_at IS NULL`, deviceID).Scan(&personID); err != nil {
			return notFound(err, "设备", "device")
		}
		_, err := tx.Exec(ctx, `UPDATE devices SET lang = ? WHERE id = ?`, lang, deviceID)
		return err
	})
	if err == nil {
		db.app().forgetPerson(personID)
	}
	return err
}

// personLang is the language of the person's active device: the one the
// person reads the app in, and so the one the system's notices to the
// person are worded in. Chinese when the person has no active device.
func (tx *Tx) personLang(ctx context.Context, personID string) (string, error) {
	var lang string
	err := tx.QueryRow(ctx, `SELECT lang FROM devices WHERE person_id = ? AND retired_at IS NULL`, personID).Scan(&lang)
	if errors.Is(err, sql.ErrNoRows) {
		return "zh", nil
	}
	if err != nil {
		return "", err
	}
	return deviceLang(lang), nil
}
