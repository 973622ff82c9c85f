package store

// notifications.go: what the system tells people (issue 5 §7). A person gets
// app messages (in messages, with a kind and no staff sender) and, when
// asked, an SMS through the outbox; staff get in-console notifications.
// Notices are written in the transaction of the change that causes them, so
// a rolled-back change notifies nobody; a notice key makes a repeat (a job
// run twice) a no-op. Only the SMS leaves the database, and only it waits in
// the outbox for a background job to deliver it.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"kangfu/internal/casework"
)

// PersonNotice is an app message from the system to a person.
type PersonNotice struct {
	PersonID string
	Kind     string // e.g. leave.approved, test.today, violation.warning
	Body     string // shown in the app as it is, when Words is nil
	// Words gives the body in a language ("zh" or "en"): the notice is
	// worded in the language of the person's app (issue 18 item 13).
	Words func(lang string) string
	SMS   bool   // also send it by SMS to the person's phone (outbox)
	Key   string // a notice with a key already sent is not sent again; "" never dedupes
}

// systemSender is the sender name of system messages (no staff sender).
const systemSender = "系统通知"

// NotifyPerson writes an app message from the system to the person and,
// with SMS, queues the text for the SMS channel. It reports false when a
// notice with the same key was sent before (nothing is written then).
// Call it inside the transaction of the change it reports.
func (tx *Tx) NotifyPerson(ctx context.Context, n PersonNotice) (bool, error) {
	// A worded notice is kept in both languages for the app, and its SMS
	// goes out in the language of the person's app (issue 18 item 13).
	bodyEN, sms := "", ""
	if n.Words != nil {
		lang, err := tx.personLang(ctx, n.PersonID)
		if err != nil {
			return false, err
		}
		n.Body, bodyEN, sms = n.Words("zh"), strings.TrimSpace(n.Words("en")), strings.TrimSpace(n.Words(lang))
	}
	body := strings.TrimSpace(n.Body)
	if sms == "" {
		sms = body
	}
	if body == "" || n.Kind == "" || n.Kind == "staff" {
		return false, fmt.Errorf("notify person: a kind and a body are required")
	}
	var key any
	if n.Key != "" {
		key = n.Key
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM messages WHERE notice_key = ?`, n.Key).Scan(&one)
		if err == nil {
			return false, nil
		}
		if err := notFound(err, "", ""); !casework.IsCode(err, casework.ENOTFOUND) {
			return false, err
		}
	}
	var orgID string
	if err := tx.QueryRow(ctx, `SELECT org_id FROM persons WHERE id = ?`, n.PersonID).Scan(&orgID); err != nil {
		return false, notFound(err, "人员", "person")
	}
	if _, err := tx.Exec(ctx, `INSERT INTO messages (id, person_id, org_id, sender_id, sender_name, body, body_en, created_at, kind, notice_key)
		VALUES (?, ?, ?, '', ?, ?, ?, ?, ?, ?)`, NewID(), n.PersonID, orgID, systemSender, body, bodyEN, tx.now, n.Kind, key); err != nil {
		return false, fmt.Errorf("insert notice: %w", err)
	}
	if n.SMS {
		if _, err := tx.Exec(ctx, `INSERT INTO notification_outbox (id, channel, person_id, org_id, kind, body, notice_key, state, next_at, created_at)
			VALUES (?, 'sms', ?, ?, ?, ?, ?, 'pending', ?, ?)`, NewID(), n.PersonID, orgID, n.Kind, sms, key, tx.now, tx.now); err != nil {
			return false, fmt.Errorf("queue sms: %w", err)
		}
	}
	return true, nil
}

// StaffNotice is an in-console notification for the staff who hold a
// permission over a person's place (or an org).
type StaffNotice struct {
	PersonID string        // the person it is about; "" for an org-wide notice
	OrgID    string        // the org when there is no person
	Perm     casework.Perm // recipients hold it over the org
	Kind     string
	TitleZH  string
	TitleEN  string
	Link     string // the console page that deals with it
	Key      string // dedupes per recipient; "" never dedupes
}

// NotifyStaff writes a notification for every enabled user who holds
// n.Perm over the person's place (or n.OrgID), except workers other than
// the person's own: a worker's caseload is its own. It returns how many
// were written (a recipient who already has the key gets none).
func (tx *Tx) NotifyStaff(ctx context.Context, n StaffNotice) (int, error) {
	if n.Perm == "" || n.Kind == "" || n.TitleZH == "" {
		return 0, fmt.Errorf("notify staff: a permission, a kind and a title are required")
	}
	orgID, workerID := n.OrgID, ""
	if n.PersonID != "" {
		var w *string
		if err := tx.QueryRow(ctx, `SELECT org_id, worker_id FROM persons WHERE id = ?`, n.PersonID).Scan(&orgID, &w); err != nil {
			return 0, notFound(err, "人员", "person")
		}
		if w != nil {
			workerID = *w
		}
	}
	var path string
	if err := tx.QueryRow(ctx, `SELECT path FROM orgs WHERE id = ?`, orgID).Scan(&path); err != nil {
		return 0, notFound(err, "单位", "org")
	}
	var roles []string
	for _, r := range casework.Roles {
		if casework.RoleHas(r, n.Perm) {
			roles = append(roles, string(r))
		}
	}
	if len(roles) == 0 {
		return 0, nil
	}
	q := `SELECT g.user_id, g.role FROM grants g JOIN orgs o ON o.id = g.org_id JOIN users u ON u.id = g.user_id
		WHERE NOT u.disabled AND substr(?, 1, length(o.path)) = o.path AND g.role IN (?` + strings.Repeat(", ?", len(roles)-1) + `)`
	args := []any{path}
	for _, r := range roles {
		args = append(args, r)
	}
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	var users []string
	seen := map[string]bool{}
	for rows.Next() {
		var uid, role string
		if err := rows.Scan(&uid, &role); err != nil {
			rows.Close()
			return 0, err
		}
		if casework.Role(role) == casework.RoleWorker && n.PersonID != "" && uid != workerID {
			continue
		}
		if !seen[uid] {
			seen[uid] = true
			users = append(users, uid)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	var person, key any
	if n.PersonID != "" {
		person = n.PersonID
	}
	if n.Key != "" {
		key = n.Key
	}
	titleEN := n.TitleEN
	if titleEN == "" {
		titleEN = n.TitleZH
	}
	written := 0
	for _, uid := range users {
		if n.Key != "" {
			var one int
			if err := tx.QueryRow(ctx, `SELECT 1 FROM staff_notifications WHERE user_id = ? AND notice_key = ?`, uid, n.Key).Scan(&one); err == nil {
				continue
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO staff_notifications (id, user_id, org_id, person_id, kind, title_zh, title_en, link, notice_key, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, NewID(), uid, orgID, person, n.Kind, n.TitleZH, titleEN, n.Link, key, tx.now); err != nil {
			return written, fmt.Errorf("insert notification: %w", err)
		}
		written++
	}
	return written, nil
}

// Notification is an in-console notification of one staff user.
type Notification struct {
	ID        string
	OrgID     string
	PersonID  string
	Kind      string
	TitleZH   string
	TitleEN   string
	Link      string
	CreatedAt time.Time
	ReadAt    time.Time // zero: unread
}

// Title is the notification's title in the language.
func (n *Notification) Title(lang string) string {
	if lang == "en" {
		return n.TitleEN
	}
	return n.TitleZH
}

// Read reports whether the user has read it.
func (n *Notification) Read() bool { return !n.ReadAt.IsZero() }

// noticeNotSealed keeps notices about a sealed person (R38) out of the
// bell and its list: the notice names the person.
// The one exception is the request to reopen a sealed file
// (NoticeSealedIDQuery): it is meant for the office while the file is
// sealed, and names no one.
const noticeNotSealed = `(n.person_id IS NULL OR n.kind = '` + NoticeSealedIDQuery + `' OR NOT EXISTS (SELECT 1 FROM persons p WHERE p.id = n.person_id AND NOT ` + notSealed + `))`

// ListNotifications lists the actor's own notifications, newest first (at
// most 200), unread only when asked. A notification about a place the
// actor no longer holds any grant over is left out.
func (db *DB) ListNotifications(ctx context.Context, actor *casework.Actor, unreadOnly bool) ([]*Notification, error) {
	if actor == nil || actor.UserID == "" {
		return nil, nil
	}
	q := `SELECT n.id, n.org_id, COALESCE(n.person_id, ''), n.kind, n.title_zh, n.title_en, n.link, n.created_at, n.read_at, o.path
		FROM staff_notifications n JOIN orgs o ON o.id = n.org_id WHERE n.user_id = ? AND ` + noticeNotSealed
	if unreadOnly {
		q += ` AND n.read_at IS NULL`
	}
	var out []*Notification
	err := db.Read(ctx, func(tx *Tx) error {
		rows, err := tx.Query(ctx, q+` ORDER BY n.created_at DESC, n.id DESC LIMIT 200`, actor.UserID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var n Notification
			var read *time.Time
			var path string
			if err := rows.Scan(&n.ID, &n.OrgID, &n.PersonID, &n.Kind, &n.TitleZH, &n.TitleEN, &n.Link, &n.CreatedAt, &read, &path); err != nil {
				return err
			}
			if !actor.Can(casework.PermViewOrgs, path) {
				continue
			}
			n.CreatedAt = n.CreatedAt.UTC()
			if read != nil {
				n.ReadAt = read.UTC()
			}
			out = append(out, &n)
		}
		return rows.Err()
	})
	return out, err
}

// UnreadNotifications counts the actor's unread notifications (the nav).
func (db *DB) UnreadNotifications(ctx context.Context, actor *casework.Actor) (int, error) {
	if actor == nil || actor.UserID == "" {
		return 0, nil
	}
	n := 0
	err := db.Read(ctx, func(tx *Tx) error {
		return tx.QueryRow(ctx, `SELECT COUNT(*) FROM staff_notifications n WHERE n.user_id = ? AND n.read_at IS NULL AND `+noticeNotSealed, actor.UserID).Scan(&n)
	})
	return n, err
}

// MarkNotificationsRead marks the actor's notifications read: the one with
// id, or all of them when id is "". Someone else's notification is not
// found (ENOTFOUND). Marking a read one again changes nothing.
func (db *DB) MarkNotificationsRead(ctx context.Context, actor *casework.Actor, id string) (int, error) {
	if actor == nil || actor.UserID == "" {
		return 0, casework.NotFound("通知", "notification")
	}
	n := 0
	err := db.Write(ctx, func(tx *Tx) error {
		q, args := `UPDATE staff_notifications SET read_at = ? WHERE user_id = ? AND read_at IS NULL`, []any{tx.now, actor.UserID}
		if id != "" {
			var one int
			if err := tx.QueryRow(ctx, `SELECT 1 FROM staff_notifications WHERE id = ? AND user_id = ?`, id, actor.UserID).Scan(&one); err != nil {
				return notFound(err, "通知", "notification")
			}
			q, args = q+` AND id = ?`, append(args, id)
		}
		res, err := tx.Exec(ctx, q, args...)
		if err != nil {
			return err
		}
		m, _ := res.RowsAffected()
		n = int(m)
		return nil
	})
	return n, err
}

// OutboxSender delivers one outbox row on its channel.
type OutboxSender func(ctx context.Context, channel, to, text string) error

// Delivery counts what one DeliverOutbox run did.
type Delivery struct {
	Sent, Failed, Skipped int
}

// outboxLease is how long a delivery holds its row; a server that dies
// mid-send leaves the row to be retried after it.
const outboxLease = 5 * time.Minute

// outboxMaxAttempts is when a row is given up (state failed).
const outboxMaxAttempts = 8

// outboxBackoff is the wait after the n-th failed attempt: 1, 4, 9 … minutes.
func outboxBackoff(n int) time.Duration { return time.Duration(n*n) * time.Minute }

// DeliverOutbox sends up to limit due outbox rows. Each row is claimed
// (a lease) before it is sent and marked sent after, so two servers never
// send one row twice; a failure is recorded with its error and retried
// with backoff, and given up after outboxMaxAttempts. A person without a
// phone is skipped. Each send is audited. The error joins the failures.
func (db *DB) DeliverOutbox(ctx context.Context, send OutboxSender, limit int) (Delivery, error) {
	var d Delivery
	var ids []string
	now := db.Now()
	err := db.Read(ctx, func(tx *Tx) error {
		rows, err := tx.Query(ctx, `SELECT id FROM notification_outbox WHERE state = 'pending' AND next_at <= ?
			AND (lease_until IS NULL OR lease_until < ?) ORDER BY next_at, id LIMIT ?`, now, now, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return rows.Err()
	})
	if err != nil {
		return d, err
	}
	var errs []error
	for _, id := range ids {
		if err := db.deliverOne(ctx, id, send, &d); err != nil {
			errs = append(errs, err)
		}
	}
	return d, errors.Join(errs...)
}

func (db *DB) deliverOne(ctx context.Context, id string, send OutboxSender, d *Delivery) error {
	var channel, personID, orgID, body, phoneEnc string
	var attempts int
	claimed := false
	err := db.Write(ctx, func(tx *Tx) error {
		res, err := tx.Exec(ctx, `UPDATE notification_outbox SET lease_until = ? WHERE id = ? AND state = 'pending'
			AND (lease_until IS NULL OR lease_until < ?)`, tx.now.Add(outboxLease), id, tx.now)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil // another server has it, or it is done
		}
		claimed = true
		return tx.QueryRow(ctx, `SELECT b.channel, b.person_id, b.org_id, b.body, b.attempts, p.phone_enc
			FROM notification_outbox b JOIN persons p ON p.id = b.person_id WHERE b.id = ?`, id).
			Scan(&channel, &personID, &orgID, &body, &attempts, &phoneEnc)
	})
	if err != nil || !claimed {
		return err
	}
	phone, err := db.vault.Open(phoneEnc, sealCtx("phone", personID))
	if err != nil {
		return fmt.Errorf("outbox %s: open phone: %w", id, err)
	}
	sys := casework.SystemActor("notify")
	if strings.TrimSpace(phone) == "" {
		d.Skipped++
		return db.Write(ctx, func(tx *Tx) error {
			_, err := tx.Exec(ctx, `UPDATE notification_outbox SET state = 'skipped', last_error = 'no phone', lease_until = NULL WHERE id = ?`, id)
			return err
		})
	}
	sendErr := send(ctx, channel, phone, body)
	return errors.Join(sendErr, db.Write(ctx, func(tx *Tx) error {
		attempts++
		if sendErr == nil {
			d.Sent++
			if _, err := tx.Exec(ctx, `UPDATE notification_outbox SET state = 'sent', attempts = ?, sent_at = ?, lease_until = NULL, last_error = '' WHERE id = ?`,
				attempts, tx.now, id); err != nil {
				return err
			}
			return tx.Audit(ctx, sys, AuditEntry{Action: "notification." + channel + "_sent", TargetType: "person", TargetID: personID, OrgID: orgID,
				Detail: map[string]any{"outbox_id": id, "attempt": attempts}})
		}
		d.Failed++
		state := "pending"
		if attempts >= outboxMaxAttempts {
			state = "failed"
		}
		msg := sendErr.Error()
		if len(msg) > 500 {
			msg = msg[:500]
		}
		_, err := tx.Exec(ctx, `UPDATE notification_outbox SET state = ?, attempts = ?, last_error = ?, next_at = ?, lease_until = NULL WHERE id = ?`,
			state, attempts, msg, tx.now.Add(outboxBackoff(attempts)), id)
		return err
	}))
}

// OutboxRow is one queued external delivery, for tests and the admin.
type OutboxRow struct {
	ID, Channel, PersonID, Kind, Body, State, LastError string
	Attempts                                            int
}

// ListOutbox lists the outbox rows about a person (newest first); the
// admin's jobs page shows the failed ones. PermViewJobs, or read access to
// the person's file.
func (db *DB) ListOutbox(ctx context.Context, actor *casework.Actor, personID string) ([]OutboxRow, error) {
	var out []OutboxRow
	err := db.Read(ctx, func(tx *Tx) error {
		q, args := `SELECT id, channel, person_id, kind, body, state, last_error, attempts FROM notification_outbox`, []any{}
		if personID != "" {
			if _, err := tx.personFor(ctx, actor, personID, nil); err != nil {
				return err
			}
			q, args = q+` WHERE person_id = ?`, append(args, personID)
		} else if !actor.CanAnywhere(casework.PermViewJobs) {
			return errJobsForbidden
		} else {
			// The admin sees that deliveries fail and why, not what they say.
			q = strings.Replace(q, "body,", "'' AS body,", 1) + ` WHERE state IN ('pending', 'failed') AND attempts > 0`
		}
		rows, err := tx.Query(ctx, q+` ORDER BY created_at DESC, id DESC LIMIT 200`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r OutboxRow
			if err := rows.Scan(&r.ID, &r.Channel, &r.PersonID, &r.Kind, &r.Body, &r.State, &r.LastError, &r.Attempts); err != nil {
				return err
			}
			out = append(out, r)
		}
		return rows.Err()
	})
	return out, err
}
