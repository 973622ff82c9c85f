package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"fmt"
	"strings"
	"time"

	"kangfu/internal/casework"
)

// Resident satisfaction and awareness surveys (issue 12 §4, CARE.md D).
// A survey belongs to a community and is seen by those holding
// casework.PermViewSurveys over it; residents reach it by its token alone.

// Survey is one published survey with its response count.
type Survey struct {
	ID           string
	OrgID        string
	OrgName      string
	Title        string
	Token        string
	OpensOn      casework.Date
	ClosesOn     casework.Date
	MaxResponses int
	ClosedAt     time.Time // zero while not closed by hand
	Responses    int
	CreatedAt    time.Time
}

// State says whether the survey takes answers on the day: "open",
// "not_open" (before its first day), "closed" (after its last day or closed
// by hand) or "full" (its cap reached).
func (s *Survey) State(today casework.Date) string {
	switch {
	case !s.ClosedAt.IsZero() || today.After(s.ClosesOn):
		return "closed"
	case today.Before(s.OpensOn):
		return "not_open"
	case s.Responses >= s.MaxResponses:
		return "full"
	}
	return "open"
}

// newSurveyToken is the public part of a survey's link: 80 random bits in
// lower-case base32, short enough for a printed QR code.
func newSurveyToken() string {
	b := make([]byte, 10)
	rand.Read(b)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// PublishSurvey publishes a survey for an org the actor manages surveys of.
func (db *DB) PublishSurvey(ctx context.Context, actor *casework.Actor, in casework.SurveyInput) (*Survey, error) {
	id := NewID()
	err := db.Write(ctx, func(tx *Tx) error {
		org, err := tx.orgByID(ctx, in.OrgID)
		if err != nil || !actor.Can(casework.PermViewSurveys, org.Path) {
			return casework.Invalid("org_id", "找不到该社区", "community not found")
		}
		if !actor.Can(casework.PermManageSurveys, org.Path) {
			return casework.Errorf(casework.EFORBIDDEN, "您不能为该单位发布调查", "you may not publish surveys for this org")
		}
		if err := in.Validate(tx.today(org)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO surveys (id, org_id, title, token, opens_on, closes_on, max_responses, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, org.ID, in.Title, newSurveyToken(), in.OpensOn, in.ClosesOn, in.MaxResponses, actorID(actor), tx.now); err != nil {
			return fmt.Errorf("insert survey: %w", err)
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "survey.publish", TargetType: "survey", TargetID: id, OrgID: org.ID,
			Detail: map[string]any{"title": in.Title, "opens_on": in.OpensOn.String(), "closes_on": in.ClosesOn.String(), "max_responses": in.MaxResponses}})
	})
	if err != nil {
		return nil, err
	}
	return db.GetSurvey(ctx, actor, id)
}

// CloseSurvey stops a survey taking answers before its last day.
func (db *DB) CloseSurvey(ctx context.Context, actor *casework.Actor, id string) error {
	return db.Write(ctx, func(tx *Tx) error {
		s, err := tx.surveyFor(ctx, actor, id, casework.PermManageSurveys)
		if err != nil {
			return err
		}
		if !s.ClosedAt.IsZero() {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE surveys SET closed_at = ? WHERE id = ?`, tx.now, id); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "survey.close", TargetType: "survey", TargetID: id, OrgID: s.OrgID,
			Detail: map[string]any{"title": s.Title, "responses": s.Responses}})
	})
}

// GetSurvey returns a survey in the actor's scope (else not found).
func (db *DB) GetSurvey(ctx context.Context, actor *casework.Actor, id string) (*Survey, error) {
	var s *Survey
	err := db.Read(ctx, func(tx *Tx) error {
		var err error
		s, err = tx.surveyFor(ctx, actor, id, casework.PermViewSurveys)
		return err
	})
	return s, err
}

func (tx *Tx) surveyFor(ctx context.Context, actor *casework.Actor, id string, perm casework.Perm) (*Survey, error) {
	where, args := scopeClause("o.path", actor.Scope(casework.PermViewSurveys))
	list, err := tx.surveys(ctx, `s.id = ? AND `+where, append([]any{id}, args...))
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, casework.NotFound("调查", "survey")
	}
	var path string
	if err := tx.QueryRow(ctx, `SELECT path FROM orgs WHERE id = ?`, list[0].OrgID).Scan(&path); err != nil {
		return nil, err
	}
	if !actor.Can(perm, path) {
		return nil, casework.Errorf(casework.EFORBIDDEN, "您不能管理该单位的调查", "you may not manage this org's surveys")
	}
	return &list[0], nil
}

// ListSurveys lists the surveys of the org's subtree ("" the actor's whole
// scope), newest first.
func (db *DB) ListSurveys(ctx context.Context, actor *casework.Actor, orgID string) ([]Survey, error) {
	var out []Survey
	err := db.Read(ctx, func(tx *Tx) error {
		where, args := scopeClause("o.path", actor.Scope(casework.PermViewSurveys))
		if orgID != "" {
			o, err := tx.orgByID(ctx, orgID)
			if err != nil || !actor.Can(casework.PermViewSurveys, o.Path) {
				return casework.NotFound("机构", "organisation")
			}
			where, args = where+` AND o.path LIKE ? ESCAPE '\'`, append(args, likePrefix(o.Path))
		}
		var err error
		out, err = tx.surveys(ctx, where, args)
		return err
	})
	return out, err
}

func (tx *Tx) surveys(ctx context.Context, where string, args []any) ([]Survey, error) {
	rows, err := tx.Query(ctx, `SELECT s.id, s.org_id, o.name, s.title, s.token, s.opens_on, s.closes_on, s.max_responses, s.closed_at, s.created_at,
		(SELECT COUNT(*) FROM survey_responses r WHERE r.survey_id = s.id)
		FROM surveys s JOIN orgs o ON o.id = s.org_id WHERE `+where+` ORDER BY s.created_at DESC, s.id DESC LIMIT 1000`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Survey
	for rows.Next() {
		var s Survey
		var closed sql.NullTime
		if err := rows.Scan(&s.ID, &s.OrgID, &s.OrgName, &s.Title, &s.Token, &s.OpensOn, &s.ClosesOn, &s.MaxResponses, &closed, &s.CreatedAt,
			&s.Responses); err != nil {
			return nil, err
		}
		s.ClosedAt, s.CreatedAt = scanTime(closed), s.CreatedAt.UTC()
		out = append(out, s)
	}
	return out, rows.Err()
}

// PublicSurvey is what a resident's page shows of a survey: no ids beyond
// the token, no counts.
type PublicSurvey struct {
	Title   string
	OrgName string
	State   string // see Survey.State
}

// SurveyByToken returns the public face of the survey with the token.
func (db *DB) SurveyByToken(ctx context.Context, token string) (*PublicSurvey, error) {
	var p *PublicSurvey
	err := db.Read(ctx, func(tx *Tx) error {
		s, org, err := tx.surveyByToken(ctx, token)
		if err != nil {
			return err
		}
		p = &PublicSurvey{Title: s.Title, OrgName: s.OrgName, State: s.State(tx.today(org))}
		return nil
	})
	return p, err
}

func (tx *Tx) surveyByToken(ctx context.Context, token string) (*Survey, *casework.Org, error) {
	list, err := tx.surveys(ctx, `s.token = ?`, []any{token})
	if err != nil {
		return nil, nil, err
	}
	if len(list) == 0 || token == "" {
		return nil, nil, casework.NotFound("调查", "survey")
	}
	org, err := tx.orgByID(ctx, list[0].OrgID)
	return &list[0], org, err
}

// SurveyClient is what the public door knows of a respondent, used only to
// refuse duplicates: the browser's token (a random cookie) and the client
// address. Neither is stored: each goes in as a keyed hash.
type SurveyClient struct {
	BrowserToken string
	Address      string
}

// SurveyDuplicateWindow is how long the same answers from the same address
// count as a duplicate (a form sent twice, a script replaying it).
const SurveyDuplicateWindow = 24 * time.Hour

// surveyRefusal is a refused answer: ECONFLICT with the reason in Field.
func surveyRefusal(reason, zh, en string) error {
	return &casework.Error{Code: casework.ECONFLICT, Field: reason, ZH: zh, EN: en}
}

// SurveyRefusal returns why an answer was refused ("not_open", "closed",
// "full", "duplicate"), or "".
func SurveyRefusal(err error) string {
	if casework.IsCode(err, casework.ECONFLICT) {
		return casework.ErrorField(err)
	}
	return ""
}

// SubmitSurveyResponse stores one resident's answers to the survey with the
// token. It refuses (ECONFLICT, the reason in the error's field) answers
// before the first or after the last day (in the org's time zone) or after
// the survey was closed, answers past the cap, a second answer from the same
// browser, and the same answers from the same address within
// SurveyDuplicateWindow. The checks and the insert are one write
// transaction, so concurrent answers cannot pass the cap together.
func (db *DB) SubmitSurveyResponse(ctx context.Context, token string, a casework.SurveyAnswers, c SurveyClient) error {
	if err := a.Validate(); err != nil {
		return err
	}
	return db.Write(ctx, func(tx *Tx) error {
		s, org, err := tx.surveyByToken(ctx, token)
		if err != nil {
			return err
		}
		switch s.State(tx.today(org)) {
		case "not_open":
			return surveyRefusal("not_open", fmt.Sprintf("本调查将于%s开始，请届时再来", s.OpensOn), fmt.Sprintf("this survey opens on %s; please come back then", s.OpensOn))
		case "closed":
			return surveyRefusal("closed", "本调查已结束，感谢您的关注", "this survey has ended; thank you for your interest")
		case "full":
			return surveyRefusal("full", "本调查已收满答卷，感谢您的关注", "this survey has all the answers it needs; thank you for your interest")
		}
		browser := db.vault.Index("survey-browser", s.ID+"|"+c.BrowserToken)
		fp := db.vault.Index("survey-fingerprint", s.ID+"|"+c.Address+"|"+a.Canonical())
		var n int
		if c.BrowserToken != "" {
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM survey_responses WHERE survey_id = ? AND browser_hash = ?`, s.ID, browser).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return surveyRefusal("duplicate", "您已经提交过本调查的答卷，每人只需填写一次", "you have already answered this survey; once is enough")
			}
		}
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM survey_responses WHERE survey_id = ? AND fingerprint = ? AND created_at > ?`,
			s.ID, fp, tx.now.Add(-SurveyDuplicateWindow)).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return surveyRefusal("duplicate", "刚刚已从您的网络收到相同的答卷，请勿重复提交", "the same answers just came from your network; please do not send them twice")
		}
		return tx.insertSurveyResponse(ctx, s, org, a, browser, fp)
	})
}

func (tx *Tx) insertSurveyResponse(ctx context.Context, s *Survey, org *casework.Org, a casework.SurveyAnswers, browser, fp string) error {
	k := make([]any, casework.KnowledgeMax)
	correct := 0
	for i, item := range casework.KnowledgeItems {
		ok := 0
		if a.Knowledge[i] == item.Right {
			ok, correct = 1, correct+1
		}
		k[i] = ok
	}
	heard := 0
	if a.Heard {
		heard = 1
	}
	args := []any{NewID(), s.ID, s.OrgID, tx.today(org), a.AgeBand, a.Role, "online"}
	for _, v := range a.Sat {
		args = append(args, string(v))
	}
	args = append(args, len(casework.KnowledgeItems), correct)
	args = append(args, k...)
	args = append(args, heard, a.Channel, browser, fp, tx.now)
	_, err := tx.Exec(ctx, `INSERT INTO survey_responses (id, survey_id, org_id, submitted_on, age_band, role, mode,
		sat_gov, sat_control, sat_police, sat_prevention, sat_overall, k_items, k_correct, k1, k2, k3, k4, k5,
		heard, channel, browser_hash, fingerprint, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
	if err != nil {
		return fmt.Errorf("insert survey response: %w", err)
	}
	return nil
}
