package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"kangfu/internal/casework"
)

// DrugTest is one stored test record (R18–R21). The result fields are
// sealed at rest (R36) and only opened for readers with sensitive access.
type DrugTest struct {
	ID            string
	PersonID      string
	OrgID         string
	TestedOn      casework.Date
	Place         string
	Sample        string
	Outcome       string
	Substances    []string
	Positive      []string
	SampleA       string
	SampleB       string
	SealNo        string
	RetainUntil   casework.Date // R18: the samples may be destroyed from this day
	Staff         []casework.Collector
	Forced        bool
	ApproverName  string
	ApproverTitle string
	NotifiedOn    casework.Date
	casework.Deadlines
	Remote            bool
	RemoteInstitution string
	RemoteDocumentID  string
	CreatedBy         string
	CreatedByName     string
	CreatedAt         time.Time
}

// drugResult is the sealed part of a record.
type drugResult struct {
	Outcome    string   `json:"outcome"`
	Substances []string `json:"substances,omitempty"`
	Positive   []string `json:"positive,omitempty"`
	SampleA    string   `json:"sample_a,omitempty"`
	SampleB    string   `json:"sample_b,omitempty"`
	SealNo     string   `json:"seal_no,omitempty"`
	// RetainUntil (R18) is sealed with the samples: it says the result was positive.
	RetainUntil casework.Date `json:"retain_until,omitzero"`
}

func sealDrugCtx(id string) string { return "drug_test.result:" + id }

// canReadTests: results are sensitive (R36); a counsellor's minimal
// profile does not include them.
func canReadTests(a casework.PersonAccess) bool { return a.Sensitive }

// CanRecordTest reports, as an error, whether the actor may record a test
// for the person: ENOTFOUND outside its scope, EFORBIDDEN when it reads the
// file but may not record.
func (db *DB) CanRecordTest(ctx context.Context, actor *casework.Actor, personID string) error {
	return db.Read(ctx, func(tx *Tx) error {
		_, err := tx.personForTest(ctx, actor, personID)
		return err
	})
}

func (tx *Tx) personForTest(ctx context.Context, actor *casework.Actor, personID string) (*personRow, error) {
	r, err := tx.personFor(ctx, actor, personID, nil)
	if err != nil {
		return nil, err
	}
	if !casework.CanRecordTest(actor, r.OrgPath, r.Access) {
		return nil, casework.Errorf(casework.EFORBIDDEN, "您没有权限为该人员登记检测", "you may not record a test for this person")
	}
	return r, nil
}

// collectors loads the staff accounts named in ids (enabled accounts only).
func (tx *Tx) collectors(ctx context.Context, ids []string) ([]casework.Collector, error) {
	var out []casework.Collector
	for _, id := range ids {
		var c casework.Collector
		err := tx.QueryRow(ctx, `SELECT id, display_name, sex FROM users WHERE id = ? AND NOT disabled`, id).Scan(&c.ID, &c.Name, &c.Sex)
		if err == nil {
			out = append(out, c)
		} else if err = notFound(err, "", ""); !casework.IsCode(err, casework.ENOTFOUND) {
			return nil, err
		}
	}
	return out, nil
}

// RecordTest records a drug test for a person: it checks R18–R21 (the
// staff present must be existing, enabled accounts; a female person needs a
// female collector), computes the R19 deadlines from the notification day,
// seals the result, adds "drugtest.recorded" to the timeline and audits.
func (db *DB) RecordTest(ctx context.Context, actor *casework.Actor, personID string, in casework.DrugTestInput) (*DrugTest, error) {
	var id string
	err := db.Write(ctx, func(tx *Tx) error {
		r, err := tx.personForTest(ctx, actor, personID)
		if err != nil {
			return err
		}
		org, err := tx.orgByID(ctx, r.OrgID)
		if err != nil {
			return err
		}
		if err := in.Validate(tx.today(org)); err != nil {
			return err
		}
		staff, err := tx.collectors(ctx, in.StaffIDs)
		if err != nil {
			return err
		}
		if err := in.CheckCollectors(r.Sex, staff); err != nil {
			return err
		}
		if err := tx.checkFollowUp(ctx, personID); err != nil {
			return err
		}
		if in.Forced {
			// R17 with R21: a forced test of a pregnant or nursing woman or
			// a minor under 16, refused where the policy says so.
			sp, err := tx.specialOn(ctx, personID, in.TestedOn)
			if err != nil {
				return err
			}
			pol, err := tx.resolvePolicy(ctx, org, in.TestedOn)
			if err != nil {
				return err
			}
			if err := sp.CheckForcedTest(true, pol.Value("test.no_forced_special").Bool()); err != nil {
				return err
			}
		}
		var doc any
		if in.RemoteDocumentID != "" {
			var n int
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM documents WHERE id = ? AND person_id = ?`, in.RemoteDocumentID, personID).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return casework.Invalid("remote_document_id", "该人员档案中没有编号为“%s”的文书", "the file has no document %q", in.RemoteDocumentID)
			}
			doc = in.RemoteDocumentID
		}
		id = NewID()
		res, err := json.Marshal(drugResult{Outcome: in.Outcome, Substances: in.Substances, Positive: in.Positive,
			SampleA: in.SampleA, SampleB: in.SampleB, SealNo: in.SealNo, RetainUntil: in.RetainUntil})
		if err != nil {
			return err
		}
		sealed, err := db.vault.Seal(string(res), sealDrugCtx(id))
		if err != nil {
			return err
		}
		if staff == nil {
			staff = []casework.Collector{}
		}
		staffJSON, err := json.Marshal(staff)
		if err != nil {
			return err
		}
		dl := casework.TestDeadlines(in.NotifiedOn)
		actorID := ""
		if actor != nil {
			actorID = actor.UserID
		}
		if _, err := tx.Exec(ctx, `INSERT INTO drug_tests (id, person_id, org_id, tested_on, place, sample, result_enc, staff, forced,
			approver_name, approver_title, notified_on, lab_request_by, retest_request_by, remote, remote_institution, remote_document_id,
			created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, personID, r.OrgID, in.TestedOn, in.Place, in.Sample, sealed, string(staffJSON), in.Forced,
			in.ApproverName, in.ApproverTitle, in.NotifiedOn, dl.LabRequestBy, dl.RetestRequestBy, in.Remote, in.RemoteInstitution, doc,
			actorID, tx.now); err != nil {
			return fmt.Errorf("insert drug test: %w", err)
		}
		if in.Outcome == casework.OutcomePositive {
			// R16: a positive test after release restarts the three years.
			if err := tx.relapsePositive(ctx, actor, personID, r.OrgID, id, in.TestedOn); err != nil {
				return err
			}
		}
		// The timeline is read by everyone who reads the file, a counsellor
		// in the working group included, so it carries no result (R36).
		if err := tx.event(ctx, actor, personID, r.OrgID, "drugtest.recorded", map[string]any{"test_id": id,
			"tested_on": in.TestedOn.String()}); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "drugtest.record", TargetType: "person", TargetID: personID, OrgID: r.OrgID,
			Detail: map[string]any{"test_id": id, "sample": in.Sample, "forced": in.Forced, "remote": in.Remote}})
	})
	if err != nil {
		return nil, err
	}
	var t *DrugTest
	err = db.Read(ctx, func(tx *Tx) error {
		list, err := db.drugTests(ctx, tx, `t.id = ?`, id)
		if err == nil && len(list) == 1 {
			t = &list[0]
		}
		return err
	})
	return t, err
}

// ListTests returns a person's test records, newest first, for readers with
// sensitive access (R36); a past place of execution sees only those
// recorded before its hand-over (R11). The read is audited.
func (db *DB) ListTests(ctx context.Context, actor *casework.Actor, personID string) ([]DrugTest, error) {
	var out []DrugTest
	err := db.Write(ctx, func(tx *Tx) error {
		r, err := tx.personFor(ctx, actor, personID, canReadTests)
		if err != nil {
			return err
		}
		where, args := `t.person_id = ?`, []any{personID}
		if !r.Access.Until.IsZero() {
			where, args = where+` AND t.created_at <= ?`, append(args, r.Access.Until)
		}
		if out, err = db.drugTests(ctx, tx, where, args...); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "drugtest.list", TargetType: "person", TargetID: personID, OrgID: r.OrgID,
			Detail: map[string]any{"count": len(out)}})
	})
	return out, err
}

func (db *DB) drugTests(ctx context.Context, tx *Tx, where string, args ...any) ([]DrugTest, error) {
	rows, err := tx.Query(ctx, `SELECT t.id, t.person_id, t.org_id, t.tested_on, t.place, t.sample, t.result_enc, t.staff, t.forced,
		t.approver_name, t.approver_title, t.notified_on, t.lab_request_by, t.retest_request_by, t.remote, t.remote_institution,
		COALESCE(t.remote_document_id, ''), t.created_by, COALESCE(u.display_name, ''), t.created_at
		FROM drug_tests t LEFT JOIN users u ON u.id = t.created_by WHERE `+where+` ORDER BY t.tested_on DESC, t.created_at DESC, t.id DESC`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []DrugTest
	for rows.Next() {
		var t DrugTest
		var enc, staff string
		if err := rows.Scan(&t.ID, &t.PersonID, &t.OrgID, &t.TestedOn, &t.Place, &t.Sample, &enc, &staff, &t.Forced,
			&t.ApproverName, &t.ApproverTitle, &t.NotifiedOn, &t.LabRequestBy, &t.RetestRequestBy, &t.Remote, &t.RemoteInstitution,
			&t.RemoteDocumentID, &t.CreatedBy, &t.CreatedByName, &t.CreatedAt); err != nil {
			return nil, err
		}
		t.CreatedAt = t.CreatedAt.UTC()
		plain, err := db.vault.Open(enc, sealDrugCtx(t.ID))
		if err != nil {
			return nil, err
		}
		var res drugResult
		if err := json.Unmarshal([]byte(plain), &res); err != nil {
			return nil, fmt.Errorf("drug test %s result: %w", t.ID, err)
		}
		t.Outcome, t.Substances, t.Positive, t.SampleA, t.SampleB, t.SealNo = res.Outcome, res.Substances, res.Positive, res.SampleA, res.SampleB, res.SealNo
		t.RetainUntil = res.RetainUntil
		if err := json.Unmarshal([]byte(staff), &t.Staff); err != nil {
			return nil, fmt.Errorf("drug test %s staff: %w", t.ID, err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// TestStaff lists the enabled staff who may be chosen as present at a test
// of the person (R18): police, workers, leads and counsellors whose grant
// covers the person's place. The actor must be able to record a test.
func (db *DB) TestStaff(ctx context.Context, actor *casework.Actor, personID string) ([]casework.Collector, error) {
	var out []casework.Collector
	err := db.Read(ctx, func(tx *Tx) error {
		r, err := tx.personForTest(ctx, actor, personID)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT DISTINCT u.id, u.display_name, u.sex FROM users u JOIN grants g ON g.user_id = u.id JOIN orgs o ON o.id = g.org_id
			WHERE NOT u.disabled AND g.role IN ('police', 'worker', 'lead', 'counsellor') AND ? LIKE o.path || '%'
			ORDER BY u.display_name, u.id`, r.OrgPath)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c casework.Collector
			if err := rows.Scan(&c.ID, &c.Name, &c.Sex); err != nil {
				return err
			}
			out = append(out, c)
		}
		return rows.Err()
	})
	return out, err
}
