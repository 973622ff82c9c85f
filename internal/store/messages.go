package store

import (
	"context"
	"fmt"
	"time"

	"kangfu/internal/casework"
)

// Message is a message from a staff member to a person, shown in the app,
// with its read receipt (read_at, set once by the app).
type Message struct {
	ID         string
	PersonID   string
	PersonName string
	OrgID      string
	SenderID   string
	SenderName string
	Body       string
	BodyEN     string // a system notice's English words ("" for a staff message)
	Kind       string // "staff" for a worker's message; a notice kind (no sender) for the system's
	CreatedAt  time.Time
	ReadAt     time.Time // zero: not read
}

// System reports whether the system sent it (a notice, no staff sender).
func (m *Message) System() bool { return m.Kind != "" && m.Kind != "staff" }

// Text is the message in the language: a system notice in English when
// asked, else as stored (issue 18 item 13).
func (m *Message) Text(lang string) string {
	if lang == "en" && m.BodyEN != "" {
		return m.BodyEN
	}
	return m.Body
}

// Read reports whether the person has read the message.
func (m *Message) Read() bool { return !m.ReadAt.IsZero() }

const messageColumns = `m.id, m.person_id, p.name, m.org_id, m.sender_id, m.sender_name, m.body, m.created_at, m.read_at, m.kind, m.body_en`

func scanMessage(sc interface{ Scan(...any) error }) (*Message, error) {
	var m Message
	var read *time.Time
	if err := sc.Scan(&m.ID, &m.PersonID, &m.PersonName, &m.OrgID, &m.SenderID, &m.SenderName, &m.Body, &m.CreatedAt, &read, &m.Kind, &m.BodyEN); err != nil {
		return nil, err
	}
	m.CreatedAt = m.CreatedAt.UTC()
	if read != nil {
		m.ReadAt = read.UTC()
	}
	return &m, nil
}

// canMessage is who may write to a person: write access to the file (a
// lead, or the responsible worker) and the messaging permission.
func canMessage(a casework.PersonAccess) bool { return canWrite(a) }

// SendMessage sends a message to a person. Audited and on the timeline
// (the body is not: the timeline holds no free text from staff to person).
func (db *DB) SendMessage(ctx context.Context, actor *casework.Actor, personID, body string) (*Message, error) {
	body, err := casework.ValidateMessage(body)
	if err != nil {
		return nil, err
	}
	id := NewID()
	err = db.Write(ctx, func(tx *Tx) error {
		r, err := tx.personFor(ctx, actor, personID, canMessage)
		if err != nil {
			return err
		}
		if !actor.Can(casework.PermMessage, r.OrgPath) {
			return casework.Errorf(casework.EFORBIDDEN, "您的角色不能给人员发消息", "your role cannot send messages to persons")
		}
		if _, err := tx.Exec(ctx, `INSERT INTO messages (id, person_id, org_id, sender_id, sender_name, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			id, r.ID, r.OrgID, actor.UserID, actorName(actor), body, tx.now); err != nil {
			return fmt.Errorf("insert message: %w", err)
		}
		data := map[string]any{"message_id": id, "length": len([]rune(body))}
		if err := tx.event(ctx, actor, r.ID, r.OrgID, "message.sent", data); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "message.send", TargetType: "person", TargetID: r.ID, OrgID: r.OrgID, Detail: data})
	})
	if err != nil {
		return nil, err
	}
	var m *Message
	err = db.Read(ctx, func(tx *Tx) error {
		m, err = scanMessage(tx.QueryRow(ctx, `SELECT `+messageColumns+` FROM messages m JOIN persons p ON p.id = m.person_id WHERE m.id = ?`, id))
		return err
	})
	return m, err
}

// ListMessages lists the messages sent to a person the actor may read,
// newest first, with their read state.
func (db *DB) ListMessages(ctx context.Context, actor *casework.Actor, personID string) ([]*Message, error) {
	var out []*Message
	err := db.Read(ctx, func(tx *Tx) error {
		r, err := tx.personFor(ctx, actor, personID, nil)
		if err != nil {
			return err
		}
		if !actor.Can(casework.PermViewLeave, r.OrgPath) && !r.Access.Write {
			return errPersonNotFound
		}
		q := `SELECT ` + messageColumns + ` FROM messages m JOIN persons p ON p.id = m.person_id WHERE m.person_id = ?`
		args := []any{personID}
		if !r.Access.Until.IsZero() { // a past place sees only up to the hand-over (R11)
			q, args = q+` AND m.created_at <= ?`, append(args, r.Access.Until)
		}
		out, err = tx.messages(ctx, q+` ORDER BY m.created_at DESC, m.id DESC LIMIT 500`, args...)
		return err
	})
	return out, err
}

func (tx *Tx) messages(ctx context.Context, q string, args ...any) ([]*Message, error) {
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// ListPersonMessages lists the person's own messages, newest first (the
// app), and how many are unread.
func (db *DB) ListPersonMessages(ctx context.Context, personID string) ([]*Message, int, error) {
	var out []*Message
	unread := 0
	err := db.Read(ctx, func(tx *Tx) error {
		var err error
		out, err = tx.messages(ctx, `SELECT `+messageColumns+` FROM messages m JOIN persons p ON p.id = m.person_id WHERE m.person_id = ?
			ORDER BY m.created_at DESC, m.id DESC LIMIT 500`, personID)
		return err
	})
	for _, m := range out {
		if !m.Read() {
			unread++
		}
	}
	return out, unread, err
}

// UnreadMessages counts the person's unread messages (the app's today).
func (db *DB) UnreadMessages(ctx context.Context, personID string) (int, error) {
	n := 0
	err := db.Read(ctx, func(tx *Tx) error {
		return tx.QueryRow(ctx, `SELECT COUNT(*) FROM messages WHERE person_id = ? AND read_at IS NULL`, personID).Scan(&n)
	})
	return n, err
}

// MarkMessageRead records the person's read receipt. The first receipt
// sets read_at; a repeat keeps it (idempotent). Another person's message is
// not found.
func (db *DB) MarkMessageRead(ctx context.Context, personID, messageID string) (*Message, error) {
	var m *Message
	err := db.Write(ctx, func(tx *Tx) error {
		var err error
		m, err = scanMessage(tx.QueryRow(ctx, `SELECT `+messageColumns+` FROM messages m JOIN persons p ON p.id = m.person_id WHERE m.id = ? AND m.person_id = ?`, messageID, personID))
		if err != nil {
			return notFound(err, "消息", "message")
		}
		if m.Read() {
			return nil
		}
		m.ReadAt = tx.now.UTC()
		if _, err := tx.Exec(ctx, `UPDATE messages SET read_at = ? WHERE id = ? AND read_at IS NULL`, tx.now, messageID); err != nil {
			return err
		}
		actor := personActor(personID)
		data := map[string]any{"message_id": messageID}
		if err := tx.event(ctx, actor, personID, m.OrgID, "message.read", data); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "message.read", TargetType: "person", TargetID: personID, OrgID: m.OrgID, Detail: data})
	})
	return m, err
}
