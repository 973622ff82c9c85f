package store

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"

	"kangfu/internal/casework"
)

// collator orders names by pinyin, as a Chinese user expects a name list.
var (
	collMu   sync.Mutex
	collator = collate.New(language.Chinese)
	collBuf  collate.Buffer
)

func nameKey(name string) string {
	collMu.Lock()
	defer collMu.Unlock()
	k := hex.EncodeToString(collator.KeyFromString(&collBuf, name))
	collBuf.Reset()
	return k
}

// personRow is a persons row as stored (sensitive values sealed).
type personRow struct {
	casework.Person
	idEnc, phoneEnc, householdEnc, residenceEnc, contactsEnc, healthEnc, drugEnc string
	specialEnc                                                                   string
	sealed                                                                       bool // R38: sealed after the retention period (retention.go)
}

const personColumns = `p.id, p.org_id, o.name, o.path, p.name, p.sex, p.birth_date, p.ethnicity, p.education, p.marital_status, p.employment,
	p.id_number_enc, p.id_masked, p.phone_enc, p.phone_masked, p.household_addr_enc, p.residence_addr_enc, p.contacts_enc, p.health_enc,
	p.drug_history_enc, p.photo_sha256, p.status, p.measure_kind, COALESCE(p.worker_id, ''), COALESCE(w.display_name, ''),
	p.report_deadline, p.term_end, p.released_on, p.created_at, p.updated_at, p.special_enc, p.sealed_at`

const personFrom = ` FROM persons p JOIN orgs o ON o.id = p.org_id LEFT JOIN users w ON w.id = p.worker_id`

func scanPerson(sc interface{ Scan(...any) error }) (*personRow, error) {
	var r personRow
	var status, kind string
	var sealed sql.NullTime
	err := sc.Scan(&r.ID, &r.OrgID, &r.OrgName, &r.OrgPath, &r.Name, &r.Sex, &r.BirthDate, &r.Ethnicity, &r.Education, &r.MaritalStatus, &r.Employment,
		&r.idEnc, &r.IDMasked, &r.phoneEnc, &r.PhoneMasked, &r.householdEnc, &r.residenceEnc, &r.contactsEnc, &r.healthEnc,
		&r.drugEnc, &r.PhotoSHA256, &status, &kind, &r.WorkerID, &r.WorkerName,
		&r.ReportDeadline, &r.TermEnd, &r.ReleasedOn, &r.CreatedAt, &r.UpdatedAt, &r.specialEnc, &sealed)
	if err != nil {
		return nil, err
	}
	r.Status, r.MeasureKind = casework.Status(status), casework.MeasureKind(kind)
	r.sealed = sealed.Valid
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	return &r, nil
}

// sealCtx binds a sealed person field to its row and column.
func sealCtx(field, personID string) string { return "person." + field + ":" + personID }

// facts loads what decides access to a person file.
func (tx *Tx) personFacts(ctx context.Context, r *personRow) (casework.PersonFacts, error) {
	f := casework.PersonFacts{OrgPath: r.OrgPath, WorkerID: r.WorkerID}
	rows, err := tx.Query(ctx, `SELECT wg.user_id FROM working_group wg JOIN measures m ON m.id = wg.measure_id
		WHERE m.person_id = ? AND m.in_force = ? AND wg.user_id IS NOT NULL`, r.ID, true)
	if err != nil {
		return f, err
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return f, err
		}
		f.GroupUserIDs = append(f.GroupUserIDs, id)
	}
	rows.Close()
	if f.Counsellors, err = tx.assignedCounsellors(ctx, r.ID); err != nil { // psych.go
		return f, err
	}
	err = tx.QueryRow(ctx, `SELECT o.path FROM transfers t JOIN orgs o ON o.id = t.to_org_id WHERE t.person_id = ? AND t.state = 'pending'`, r.ID).Scan(&f.IncomingPath)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return f, err
	}
	rows, err = tx.Query(ctx, `SELECT o.path, c.to_at FROM custody c JOIN orgs o ON o.id = c.org_id WHERE c.person_id = ? AND c.to_at IS NOT NULL`, r.ID)
	if err != nil {
		return f, err
	}
	defer rows.Close()
	for rows.Next() {
		var c casework.PastCustody
		if err := rows.Scan(&c.OrgPath, &c.To); err != nil {
			return f, err
		}
		f.PastCustody = append(f.PastCustody, c)
	}
	return f, rows.Err()
}

var errPersonNotFound = casework.NotFound("人员档案", "person")

// personFor loads a person the actor may read and checks need on the
// access; a file the actor may not read is not found.
func (tx *Tx) personFor(ctx context.Context, actor *casework.Actor, id string, need func(casework.PersonAccess) bool) (*personRow, error) {
	r, err := scanPerson(tx.QueryRow(ctx, `SELECT `+personColumns+personFrom+` WHERE p.id = ?`, id))
	if err != nil {
		return nil, notFound(err, "人员档案", "person")
	}
	if r.sealed && !actor.System {
		// R38: a sealed file is disclosed only through a statutory query
		// (OpenStatutoryQuery); to every role it is not found.
		return nil, errPersonNotFound
	}
	f, err := tx.personFacts(ctx, r)
	if err != nil {
		return nil, err
	}
	r.Access = casework.PersonAccessFor(actor, f)
	if !r.Access.Read || !r.Access.Until.IsZero() {
		// Outside the subtree (or a past place): a break-glass grant in
		// force reads the whole file, read-only (breakglass.go).
		grant, err := tx.activeBreakGlass(ctx, actor, r.ID)
		if err != nil {
			return nil, err
		}
		r.Access = r.Access.WithBreakGlass(actor, grant)
	}
	if !r.Access.Read {
		return nil, errPersonNotFound
	}
	if need != nil && !need(r.Access) {
		return nil, casework.Errorf(casework.EFORBIDDEN, "您没有权限对该档案执行此操作", "you may not do this with this file")
	}
	if r.Access.BreakGlass != "" {
		tx.noteBreakGlassRead(actor, r)
	}
	return r, nil
}

func canWrite(a casework.PersonAccess) bool { return a.Write && a.Until.IsZero() }

// open decrypts the fields the reader may see. ID number and phone stay
// masked (a reveal shows them); the rest is shown to roles with sensitive
// access; a counsellor's minimal profile keeps only health notes.
func (db *DB) open(r *personRow) (*casework.Person, error) {
	p := r.Person
	if !p.Access.Until.IsZero() {
		// A past place of execution keeps what it knew, not what the new
		// place records after the hand-over (R11): identity and history
		// only, no current contact details, worker or state.
		p.Status, p.WorkerID, p.WorkerName, p.PhoneMasked = casework.StatusTransferredOut, "", "", ""
		p.OrgID, p.OrgName, p.OrgPath = "", "", ""
		p.ReportDeadline, p.Employment, p.MaritalStatus, p.Education = casework.Date{}, "", "", ""
		return &p, nil
	}
	if !p.Access.Sensitive && !p.Access.Minimal {
		return &p, nil
	}
	var err error
	if p.HealthNotes, err = db.vault.Open(r.healthEnc, sealCtx("health", p.ID)); err != nil {
		return nil, fmt.Errorf("open health of %s: %w", p.ID, err)
	}
	if p.Access.Minimal {
		p.IDMasked, p.PhoneMasked = "", ""
		return &p, nil
	}
	if p.Special, err = db.openSpecial(r); err != nil {
		return nil, err
	}
	if p.HouseholdAddr, err = db.vault.Open(r.householdEnc, sealCtx("household", p.ID)); err != nil {
		return nil, err
	}
	if p.ResidenceAddr, err = db.vault.Open(r.residenceEnc, sealCtx("residence", p.ID)); err != nil {
		return nil, err
	}
	if s, err := db.vault.Open(r.contactsEnc, sealCtx("contacts", p.ID)); err != nil {
		return nil, err
	} else if s != "" {
		if err := json.Unmarshal([]byte(s), &p.Contacts); err != nil {
			return nil, err
		}
		for i := range p.Contacts {
			p.Contacts[i].Phone = casework.MaskPhone(p.Contacts[i].Phone)
		}
	}
	if s, err := db.vault.Open(r.drugEnc, sealCtx("drug", p.ID)); err != nil {
		return nil, err
	} else if s != "" {
		if err := json.Unmarshal([]byte(s), &p.DrugHistory); err != nil {
			return nil, err
		}
	}
	return &p, nil
}

// sealPerson encrypts the sensitive values of in for the row id.
func (db *DB) sealPerson(id string, in *casework.PersonInput) (map[string]any, error) {
	contacts, err := json.Marshal(in.Contacts)
	if err != nil {
		return nil, err
	}
	if len(in.Contacts) == 0 {
		contacts = nil
	}
	drug := ""
	if in.DrugHistory.Substances != nil || !in.DrugHistory.FirstUseDate.IsZero() || !in.DrugHistory.FirstRegistered.IsZero() ||
		in.DrugHistory.PriorMeasures != "" || in.DrugHistory.Notes != "" {
		b, err := json.Marshal(in.DrugHistory)
		if err != nil {
			return nil, err
		}
		drug = string(b)
	}
	vals := map[string]string{
		"id_number_enc": in.IDNumber, "phone_enc": in.Phone, "household_addr_enc": in.HouseholdAddr, "residence_addr_enc": in.ResidenceAddr,
		"contacts_enc": string(contacts), "health_enc": in.HealthNotes, "drug_history_enc": drug,
	}
	ctxName := map[string]string{"id_number_enc": "id", "phone_enc": "phone", "household_addr_enc": "household", "residence_addr_enc": "residence",
		"contacts_enc": "contacts", "health_enc": "health", "drug_history_enc": "drug"}
	out := map[string]any{
		"id_number_idx": db.vault.Index("id", in.IDNumber),
		"id_masked":     casework.MaskID(in.IDNumber),
		"phone_idx":     "",
		"phone_masked":  "",
	}
	if in.Phone != "" {
		out["phone_idx"] = db.vault.Index("phone", casework.NormalizePhone(in.Phone))
		out["phone_masked"] = casework.MaskPhone(in.Phone)
	}
	for col, v := range vals {
		s, err := db.vault.Seal(v, sealCtx(ctxName[col], id))
		if err != nil {
			return nil, err
		}
		out[col] = s
	}
	return out, nil
}

// CreatePerson opens a file at in.OrgID, with its first measure when m is
// given. The actor needs write access there (a lead, or a worker, whose
// caseload it then joins). An ID number already on file is refused: one
// person, one file — a person managed elsewhere comes by transfer (R11).
func (db *DB) CreatePerson(ctx context.Context, actor *casework.Actor, in casework.PersonInput, m *casework.MeasureInput) (*casework.Person, error) {
	var id string
	err := db.Write(ctx, func(tx *Tx) error {
		if err := tx.idQueriesAllowed(ctx, actor); err != nil {
			return err
		}
		var err error
		id, err = tx.createPerson(ctx, actor, in, m, "")
		return err
	})
	if fd, ok := asForeignDuplicate(err); ok {
		// The refused write rolled back; the query is recorded on its own.
		if err := db.Write(ctx, func(tx *Tx) error { return tx.recordIDQuery(ctx, actor, fd.personID, in.OrgID) }); err != nil {
			return nil, err
		}
		return nil, errIDQueried
	}
	if err != nil {
		return nil, err
	}
	return db.GetPerson(ctx, actor, id, "")
}

func (tx *Tx) createPerson(ctx context.Context, actor *casework.Actor, in casework.PersonInput, m *casework.MeasureInput, importKey string) (string, error) {
	if _, err := in.Validate(tx.now); err != nil {
		return "", tx.withMeasureErrors(ctx, err, in, m)
	}
	org, err := tx.orgByID(ctx, in.OrgID)
	if err != nil || !actor.Can(casework.PermWritePersons, org.Path) {
		return "", casework.Invalid("org_id", "执行地不存在或不在您的管辖范围内", "the place of execution does not exist or is outside your scope")
	}
	if org.Retired {
		return "", casework.Invalid("org_id", "执行地“%s”已撤销", "the place of execution %q is retired", org.Name)
	}
	if in.WorkerID == "" && actor.HasRole(casework.RoleWorker) && !actor.HasRole(casework.RoleLead) {
		in.WorkerID = actor.UserID
	}
	if err := tx.checkWorker(ctx, in.WorkerID, org.Path); err != nil {
		return "", err
	}
	id := NewID()
	sealed, err := tx.db.sealPerson(id, &in)
	if err != nil {
		return "", err
	}
	var holder string
	err = tx.QueryRow(ctx, `SELECT id FROM persons WHERE id_number_idx = ?`, sealed["id_number_idx"]).Scan(&holder)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	if holder != "" {
		// Outside the actor's scope the answer must not confirm the file
		// (issue 15 §3): the caller refers it to the holder.
		if _, err := tx.personFor(ctx, actor, holder, nil); casework.IsCode(err, casework.ENOTFOUND) {
			return "", foreignDuplicate{personID: holder}
		} else if err != nil {
			return "", err
		}
		return "", casework.Errorf(casework.ECONFLICT, "该身份证号已建档（一人一档）。如由其他地方管理，请办理变更执行地",
			"a file with this ID number exists (one person, one file); if another place manages the person, use a transfer")
	}
	var worker any
	if in.WorkerID != "" {
		worker = in.WorkerID
	}
	_, err = tx.Exec(ctx, `INSERT INTO persons (id, org_id, name, name_key, sex, birth_date, ethnicity, education, marital_status, employment,
		id_number_enc, id_number_idx, id_masked, phone_enc, phone_idx, phone_masked, household_addr_enc, residence_addr_enc, contacts_enc,
		health_enc, drug_history_enc, status, worker_id, import_key, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, in.OrgID, in.Name, nameKey(in.Name), in.Sex, in.BirthDate, in.Ethnicity, in.Education, in.MaritalStatus, in.Employment,
		sealed["id_number_enc"], sealed["id_number_idx"], sealed["id_masked"], sealed["phone_enc"], sealed["phone_idx"], sealed["phone_masked"],
		sealed["household_addr_enc"], sealed["residence_addr_enc"], sealed["contacts_enc"], sealed["health_enc"], sealed["drug_history_enc"],
		string(casework.StatusPendingReport), worker, importKey, tx.now, tx.now)
	if errors.Is(err, ErrUnique) {
		return "", casework.Errorf(casework.ECONFLICT, "该身份证号已建档（一人一档）", "a file with this ID number exists (one person, one file)")
	}
	if err != nil {
		return "", fmt.Errorf("insert person: %w", err)
	}
	if err := tx.writeGrams(ctx, id, in.Name); err != nil {
		return "", err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO custody (id, person_id, org_id, from_at) VALUES (?, ?, ?, ?)`, NewID(), id, in.OrgID, tx.now); err != nil {
		return "", err
	}
	if err := tx.event(ctx, actor, id, in.OrgID, "person.created", map[string]any{"org": org.Name}); err != nil {
		return "", err
	}
	if err := tx.Audit(ctx, actor, AuditEntry{Action: "person.create", TargetType: "person", TargetID: id, OrgID: in.OrgID}); err != nil {
		return "", err
	}
	if m != nil {
		m.PlaceOrgID = in.OrgID
		if m.WorkerID == "" {
			m.WorkerID = in.WorkerID
		}
		if _, err := tx.addMeasure(ctx, actor, id, org, *m); err != nil {
			return "", err
		}
	}
	return id, nil
}

// withMeasureErrors adds the first measure's problems to the person's, so
// the new-file form shows them all at once (issue 18 item 9); err is
// returned as it is when it is not about the input.
func (tx *Tx) withMeasureErrors(ctx context.Context, err error, in casework.PersonInput, m *casework.MeasureInput) error {
	var errs casework.FieldErrors
	if m == nil || errs.Add(err) != nil {
		return err
	}
	today := casework.DateOf(tx.now, nil)
	if org, oerr := tx.orgByID(ctx, in.OrgID); oerr == nil {
		today = tx.today(org)
	}
	mm := *m
	mm.PlaceOrgID = in.OrgID
	if merr := errs.Add(mm.Validate(today)); merr != nil {
		return err
	}
	return errs.Err()
}

// checkWorker checks that a responsible worker is an active worker whose
// grant covers the place.
func (tx *Tx) checkWorker(ctx context.Context, workerID, orgPath string) error {
	if workerID == "" {
		return nil
	}
	var n int
	err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM grants g JOIN orgs o ON o.id = g.org_id JOIN users u ON u.id = g.user_id
		WHERE g.user_id = ? AND g.role IN ('worker', 'lead') AND NOT u.disabled AND ? LIKE o.path || '%'`, workerID, orgPath).Scan(&n)
	if err != nil {
		return err
	}
	if n == 0 {
		return casework.Invalid("worker_id", "责任专干必须是该执行地的禁毒专干/社工", "the responsible worker must be a worker at the place of execution")
	}
	return nil
}

func (tx *Tx) writeGrams(ctx context.Context, personID, name string) error {
	if _, err := tx.Exec(ctx, `DELETE FROM person_name_grams WHERE person_id = ?`, personID); err != nil {
		return err
	}
	for _, g := range casework.NameGrams(name) {
		if _, err := tx.Exec(ctx, `INSERT INTO person_name_grams (gram, person_id, status, org_id, name_key)
			SELECT ?, id, status, org_id, name_key FROM persons WHERE id = ?`, g, personID); err != nil {
			return err
		}
	}
	return nil
}

// syncGrams copies the person's status, place and sort key onto its name
// grams (see migration 0005); called wherever those change.
func (tx *Tx) syncGrams(ctx context.Context, personID string) error {
	_, err := tx.Exec(ctx, `UPDATE person_name_grams SET status = (SELECT status FROM persons WHERE id = ?), org_id = (SELECT org_id FROM persons WHERE id = ?),
		name_key = (SELECT name_key FROM persons WHERE id = ?) WHERE person_id = ?`, personID, personID, personID, personID)
	return err
}

// PersonActorPrefix marks a timeline entry the person made in the app
// (actor_id "person:<id>"): not a staff user, and not the system either
// (issue 18 §7: the dossier names the person, never "系统", for it).
const PersonActorPrefix = "person:"

// TimelineActor is the actor_id a timeline entry records: the staff user,
// PersonActorPrefix+personID for the person acting in the app (personActor,
// a device's "app:" actor), "" for the system's own jobs.
func TimelineActor(actor *casework.Actor, personID string) string {
	switch {
	case actor == nil || actor.System:
		return ""
	case actor.UserID != "":
		return actor.UserID
	case strings.HasPrefix(actor.Username, "person:") || strings.HasPrefix(actor.Username, "app:"):
		return PersonActorPrefix + personID
	}
	return ""
}

// event adds an entry to the person's timeline. data holds no sensitive values.
func (tx *Tx) event(ctx context.Context, actor *casework.Actor, personID, orgID, kind string, data map[string]any) error {
	var b []byte
	if len(data) > 0 {
		var err error
		if b, err = json.Marshal(data); err != nil {
			return err
		}
	}
	actorID := TimelineActor(actor, personID)
	_, err := tx.Exec(ctx, `INSERT INTO timeline (id, person_id, org_id, at, kind, data, actor_id) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		NewID(), personID, orgID, tx.now, kind, string(b), actorID)
	return err
}

// GetPerson opens a person file for the actor and records the read in the
// audit log (R36: every read of a person file is audited).
func (db *DB) GetPerson(ctx context.Context, actor *casework.Actor, id, reason string) (*casework.Person, error) {
	var p *casework.Person
	err := db.Write(ctx, func(tx *Tx) error {
		r, err := tx.personFor(ctx, actor, id, nil)
		if err != nil {
			return err
		}
		if p, err = tx.db.open(r); err != nil {
			return err
		}
		detail := map[string]any{}
		if !r.Access.Until.IsZero() {
			detail["historical_until"] = r.Access.Until.Format(time.RFC3339)
		}
		if r.Access.Incoming {
			detail["incoming_transfer"] = true
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "person.read", TargetType: "person", TargetID: id, OrgID: r.OrgID, Reason: reason, Detail: detail})
	})
	return p, err
}

// RevealFields are the masked values a reader may reveal with a reason.
var RevealFields = map[string]string{"id_number": "id", "phone": "phone"}

// Reveal returns the full value of a masked field (ID number, phone) for a
// reader with sensitive access; the reason is required and the reveal is
// audited (R36).
func (db *DB) Reveal(ctx context.Context, actor *casework.Actor, id, field, reason string) (string, error) {
	sealName, ok := RevealFields[field]
	if !ok {
		return "", casework.Invalid("field", "不能查看该字段：%s", "cannot reveal field %s", field)
	}
	if strings.TrimSpace(reason) == "" {
		return "", casework.Invalid("reason", "查看完整信息须填写原因", "a reason is required to reveal a value")
	}
	if err := casework.CheckText("reason", reason, casework.MaxReason); err != nil {
		return "", err
	}
	var value string
	err := db.Write(ctx, func(tx *Tx) error {
		r, err := tx.personFor(ctx, actor, id, func(a casework.PersonAccess) bool { return a.Sensitive })
		if err != nil {
			return err
		}
		if field == "phone" && !r.Access.Until.IsZero() {
			return casework.Errorf(casework.EFORBIDDEN, "已移交的档案不能查看现联系方式", "a file handed over elsewhere does not show its current contact details")
		}
		sealed := r.idEnc
		if field == "phone" {
			sealed = r.phoneEnc
		}
		if value, err = tx.db.vault.Open(sealed, sealCtx(sealName, id)); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "person.reveal", TargetType: "person", TargetID: id, OrgID: r.OrgID, Reason: reason,
			Detail: map[string]any{"field": field}})
	})
	return value, err
}
