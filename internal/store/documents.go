package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"kangfu/internal/casework"
)

// DocumentKinds are the kinds of document a file holds (DOMAIN §1.7: the
// 27 Hainan types reduced to those the console files; the registers and
// records kept as data elsewhere are not documents here).
var DocumentKinds = []string{
	"decision",          // 决定书
	"notice",            // 告知书
	"agreement",         // 社区戒毒/康复协议书 (R6)
	"working_group",     // 工作小组登记表 (R7)
	"report_notice",     // 报到通知 (R1, R5)
	"help_plan",         // 帮教计划书
	"test_notice",       // 尿检通知书
	"exhortation",       // 劝诫通知书 (R29)
	"warning",           // 告诫通知书 (R29)
	"violation_report",  // 违反协议情况报告 (R10)
	"leave_approval",    // 外出请假审批表 (R8, R28)
	"transfer_approval", // 变更执行地点审批表 (R11)
	"assessment",        // 定期评估报告
	"status_note",       // 中止/终止/继续情况说明 (R13, R14)
	"release_notice",    // 解除通知书 (R15)
	"other",             // 其他
}

// Document sources.
const (
	SourceUpload    = "upload"
	SourceGenerated = "generated"
)

// Document is one document in a person's file. The content is in the blob
// store under SHA256.
type Document struct {
	ID            string
	PersonID      string
	MeasureID     string
	OrgID         string // responsible org when filed
	OrgName       string
	Kind          string
	Title         string
	Source        string // upload or generated
	SHA256        string
	MIME          string
	Size          int64
	CreatedBy     string
	CreatedByName string
	CreatedAt     time.Time
}

// DocumentInput is a document to file; its content is already stored.
type DocumentInput struct {
	Kind   string
	Title  string
	Source string
	SHA256 string
	MIME   string
	Size   int64
}

// ValidateMeta checks kind and title, naming the field at fault; front
// doors call it before they store an upload's content.
func (in *DocumentInput) ValidateMeta() error {
	in.Title = strings.TrimSpace(in.Title)
	if !slices.Contains(DocumentKinds, in.Kind) {
		return casework.Invalid("kind", "请选择文书类别（%s 之一）", "choose a document kind (one of %s)", strings.Join(DocumentKinds, ", "))
	}
	if in.Title == "" {
		return casework.Invalid("title", "请填写文书标题", "a title is required")
	}
	if utf8.RuneCountInString(in.Title) > 100 {
		return casework.Invalid("title", "文书标题不能超过100个字", "the title must be at most 100 characters")
	}
	return nil
}

// Validate checks the whole input.
func (in *DocumentInput) Validate() error {
	if err := in.ValidateMeta(); err != nil {
		return err
	}
	if in.Source != SourceUpload && in.Source != SourceGenerated {
		return fmt.Errorf("document source %q", in.Source)
	}
	if len(in.SHA256) != 64 || in.MIME == "" || in.Size <= 0 {
		return fmt.Errorf("document content not stored (sha256 %q, mime %q, size %d)", in.SHA256, in.MIME, in.Size)
	}
	return nil
}

// CanAddDocument reports, as an error, whether the actor may file a
// document for the person (write access at the current place): checked
// before a front door reads and stores an upload, and again by AddDocument.
// A file outside the actor's scope is ENOTFOUND; read-only access is
// EFORBIDDEN.
func (db *DB) CanAddDocument(ctx context.Context, actor *casework.Actor, personID string) error {
	return db.Read(ctx, func(tx *Tx) error {
		_, err := tx.personFor(ctx, actor, personID, canWrite)
		return err
	})
}

// AddDocument files a document whose content is in the blob store, against
// the measure in force (if any), records "document.added" on the timeline
// and audits the upload or generation.
func (db *DB) AddDocument(ctx context.Context, actor *casework.Actor, personID string, in DocumentInput) (*Document, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var id string
	err := db.Write(ctx, func(tx *Tx) error {
		r, err := tx.personFor(ctx, actor, personID, canWrite)
		if err != nil {
			return err
		}
		var measure any
		var mid string
		err = tx.QueryRow(ctx, `SELECT id FROM measures WHERE person_id = ? AND in_force = ?`, personID, true).Scan(&mid)
		switch {
		case err == nil:
			measure = mid
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		id = NewID()
		actorID := ""
		if actor != nil {
			actorID = actor.UserID
		}
		if _, err := tx.Exec(ctx, `INSERT INTO documents (id, person_id, measure_id, org_id, kind, title, source, sha256, mime, size, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, personID, measure, r.OrgID, in.Kind, in.Title, in.Source, in.SHA256, in.MIME, in.Size,
			actorID, tx.now); err != nil {
			return fmt.Errorf("insert document: %w", err)
		}
		if err := tx.event(ctx, actor, personID, r.OrgID, "document.added", map[string]any{"document_id": id, "kind": in.Kind,
			"title": in.Title, "source": in.Source}); err != nil {
			return err
		}
		action := "document.upload"
		if in.Source == SourceGenerated {
			action = "document.generate"
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: action, TargetType: "person", TargetID: personID, OrgID: r.OrgID,
			Detail: map[string]any{"document_id": id, "kind": in.Kind, "sha256": in.SHA256, "size": in.Size, "mime": in.MIME}})
	})
	if err != nil {
		return nil, err
	}
	var d *Document
	err = db.Read(ctx, func(tx *Tx) error {
		d, err = tx.documentByID(ctx, id)
		return err
	})
	return d, err
}

const documentColumns = `d.id, d.person_id, COALESCE(d.measure_id, ''), d.org_id, o.name, d.kind, d.title, d.source, d.sha256, d.mime, d.size,
	d.created_by, COALESCE(u.display_name, ''), d.created_at`

const documentFrom = ` FROM documents d JOIN orgs o ON o.id = d.org_id LEFT JOIN users u ON u.id = d.created_by`

func scanDocument(sc interface{ Scan(...any) error }) (*Document, error) {
	var d Document
	err := sc.Scan(&d.ID, &d.PersonID, &d.MeasureID, &d.OrgID, &d.OrgName, &d.Kind, &d.Title, &d.Source, &d.SHA256, &d.MIME, &d.Size,
		&d.CreatedBy, &d.CreatedByName, &d.CreatedAt)
	d.CreatedAt = d.CreatedAt.UTC()
	return &d, err
}

func (tx *Tx) documentByID(ctx context.Context, id string) (*Document, error) {
	d, err := scanDocument(tx.QueryRow(ctx, `SELECT `+documentColumns+documentFrom+` WHERE d.id = ?`, id))
	if err != nil {
		return nil, notFound(err, "文书", "document")
	}
	return d, nil
}

// documents lists a person's documents, newest first; a past place of
// execution sees only those filed before its hand-over (R11).
func (tx *Tx) documents(ctx context.Context, personID string, acc casework.PersonAccess) ([]Document, error) {
	q, args := `SELECT `+documentColumns+documentFrom+` WHERE d.person_id = ?`, []any{personID}
	if !acc.Until.IsZero() {
		q, args = q+` AND d.created_at <= ?`, append(args, acc.Until)
	}
	rows, err := tx.Query(ctx, q+` ORDER BY d.created_at DESC, d.id DESC`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Document
	for rows.Next() {
		d, err := scanDocument(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *d)
	}
	return out, rows.Err()
}

// canReadDocuments: documents carry the file's sensitive content (the
// decision, the agreement, violations), so a counsellor's minimal profile
// does not include them (PRODUCT §1).
func canReadDocuments(a casework.PersonAccess) bool { return a.Sensitive }

// ListDocuments returns a person's documents, newest first.
func (db *DB) ListDocuments(ctx context.Context, actor *casework.Actor, personID string) ([]Document, error) {
	var out []Document
	err := db.Read(ctx, func(tx *Tx) error {
		r, err := tx.personFor(ctx, actor, personID, canReadDocuments)
		if err != nil {
			return err
		}
		out, err = tx.documents(ctx, personID, r.Access)
		return err
	})
	return out, err
}

// DownloadDocument lets the actor read a document's content: fetch is
// called with the document (inside the transaction) to read it from the
// blob store, and the download is audited as an export of the person's
// data (R36) only if fetch succeeds. A document the actor may not read —
// outside its scope, or filed after a past place handed the file over — is
// ENOTFOUND.
func (db *DB) DownloadDocument(ctx context.Context, actor *casework.Actor, documentID string, fetch func(*Document) error) (*Document, error) {
	var d *Document
	err := db.Write(ctx, func(tx *Tx) error {
		var err error
		if d, err = tx.documentByID(ctx, documentID); err != nil {
			return err
		}
		r, err := tx.personFor(ctx, actor, d.PersonID, canReadDocuments)
		if casework.IsCode(err, casework.ENOTFOUND) || (err == nil && !r.Access.Until.IsZero() && d.CreatedAt.After(r.Access.Until)) {
			return casework.NotFound("文书", "document")
		}
		if err != nil {
			return err
		}
		if err := fetch(d); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "person.export", TargetType: "person", TargetID: d.PersonID, OrgID: r.OrgID,
			Detail: map[string]any{"what": "document", "document_id": d.ID, "kind": d.Kind, "sha256": d.SHA256}})
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// Dossier is the whole file of a person, for the printable dossier and for
// generating documents from templates.
type Dossier struct {
	Person     *casework.Person
	Orgs       []*casework.Org // the current place and its ancestors, root first
	Measures   []*Measure      // newest first
	Documents  []Document      // newest first
	Timeline   []TimelineEntry // newest first
	Users      map[string]string
	Help       *HelpPlan    // the help plan, for readers of help (nil: none or not theirs)
	Tests      []DrugTest   // newest first (dossier_file.go)
	Violations []*Violation // newest day first, each with its ladder steps
	Leaves     []*Leave     // latest start first; work addresses stay sealed
	Checkins   []MonthDuty  // newest month first
	Hidden     []string     // parts the reader's role does not cover (HiddenViolations, HiddenLeave)
	At         time.Time    // when it was put together
	Until      time.Time    // non-zero: a past place's view, up to the hand-over
}

// Township returns the responsible 乡镇/街道 (the township or street over the
// place of execution; DOMAIN §1.2), or the place itself.
func (d *Dossier) Township() *casework.Org {
	for i := len(d.Orgs) - 1; i >= 0; i-- {
		if d.Orgs[i].Kind == casework.KindTownship {
			return d.Orgs[i]
		}
	}
	if len(d.Orgs) > 0 {
		return d.Orgs[len(d.Orgs)-1]
	}
	return &casework.Org{}
}

// Current returns the measure in force, or the latest one, or nil.
func (d *Dossier) Current() *Measure {
	for _, m := range d.Measures {
		if m.InForce {
			return m
		}
	}
	if len(d.Measures) > 0 {
		return d.Measures[0]
	}
	return nil
}

// DossierPurpose says why the whole file is loaded; it decides the access
// needed and the audit entry.
type DossierPurpose string

// Purposes of LoadDossier.
const (
	DossierPrint    DossierPurpose = "html"     // the print view: an export (R36)
	DossierPDF      DossierPurpose = "pdf"      // the PDF: an export (R36)
	DossierGenerate DossierPurpose = "generate" // to fill a document template: needs write access
)

// dossierTimelineMax bounds the timeline printed in a dossier.
const dossierTimelineMax = 2000

// LoadDossier puts together the whole file the actor may see: identity
// (ID number and phone masked), measures with their status history and
// working groups, documents and timeline. Printing it is an export and is
// audited as such; loading it to generate a document needs write access
// and is audited as a read.
func (db *DB) LoadDossier(ctx context.Context, actor *casework.Actor, personID string, purpose DossierPurpose) (*Dossier, error) {
	need := canReadDocuments
	if purpose == DossierGenerate {
		need = canWrite
	}
	d := &Dossier{Users: map[string]string{}}
	err := db.Write(ctx, func(tx *Tx) error {
		r, err := tx.personFor(ctx, actor, personID, need)
		if err != nil {
			return err
		}
		if err := tx.loadDossier(ctx, actor, d, r, purpose); err != nil {
			return err
		}
		e := AuditEntry{Action: "person.export", TargetType: "person", TargetID: personID, OrgID: r.OrgID,
			Detail: map[string]any{"what": "dossier", "format": string(purpose)}}
		if purpose == DossierGenerate {
			e = AuditEntry{Action: "person.read", TargetType: "person", TargetID: personID, OrgID: r.OrgID, Reason: "generate document",
				Detail: map[string]any{}}
		}
		if !r.Access.Until.IsZero() {
			e.Detail["historical_until"] = r.Access.Until.Format(time.RFC3339)
		}
		return tx.Audit(ctx, actor, e)
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// loadDossier reads the parts of a dossier of the row r, opened for the
// actor with r.Access (LoadDossier; a statutory query's read-only view).
func (tx *Tx) loadDossier(ctx context.Context, actor *casework.Actor, d *Dossier, r *personRow, purpose DossierPurpose) error {
	var err error
	d.At, d.Until = tx.now, r.Access.Until
	if d.Person, err = tx.db.open(r); err != nil {
		return err
	}
	// A past place of execution is not told where the person went (R11):
	// open() blanks the current place for it, and so does the dossier.
	if d.Person.OrgPath != "" {
		if err := tx.dossierOrgs(ctx, d, d.Person.OrgPath); err != nil {
			return err
		}
	}
	if d.Measures, err = tx.measuresOf(ctx, r); err != nil {
		return err
	}
	if d.Documents, err = tx.documents(ctx, r.ID, r.Access); err != nil {
		return err
	}
	if err := tx.dossierTimeline(ctx, actor, d, r); err != nil {
		return err
	}
	if err := tx.dossierUsers(ctx, d); err != nil {
		return err
	}
	if d.Help, err = tx.dossierHelp(ctx, actor, r); err != nil { // help.go
		return err
	}
	if purpose != DossierGenerate {
		if err := tx.dossierParts(ctx, actor, d, r); err != nil { // dossier_file.go
			return err
		}
	}
	return nil
}

func (tx *Tx) dossierOrgs(ctx context.Context, d *Dossier, path string) error {
	rows, err := tx.Query(ctx, `SELECT `+orgColumns+` FROM orgs o WHERE ? LIKE o.path || '%' ORDER BY LENGTH(o.path)`, path)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		o, err := scanOrg(rows)
		if err != nil {
			return err
		}
		d.Orgs = append(d.Orgs, o)
	}
	return rows.Err()
}

// dossierTimeline reads the timeline part of a dossier under the same
// field rules as the timeline page (issue 15 §6, R36): a reader without a
// section's permission finds none of its entries in the printed file either.
func (tx *Tx) dossierTimeline(ctx context.Context, actor *casework.Actor, d *Dossier, r *personRow) error {
	where, args := `person_id = ?`, []any{r.ID}
	if !r.Access.Until.IsZero() {
		where, args = where+` AND at <= ?`, append(args, r.Access.Until)
	}
	where, args = timelineFilterClause(casework.TimelineFilterFor(actor, r.OrgPath, r.Access), where, args)
	var err error
	d.Timeline, err = tx.timeline(ctx, where, args, dossierTimelineMax, 0)
	return err
}

// dossierUsers names the staff who appear in the file (actors of status
// events and timeline entries, authors of documents).
func (tx *Tx) dossierUsers(ctx context.Context, d *Dossier) error {
	ids := map[string]bool{}
	for _, m := range d.Measures {
		for _, e := range m.Events {
			ids[e.ActorID] = true
		}
	}
	for _, e := range d.Timeline {
		ids[e.ActorID] = true
	}
	delete(ids, "")
	for id := range ids {
		if strings.HasPrefix(id, PersonActorPrefix) {
			continue // the person, named by the dossier itself
		}
		var name string
		err := tx.QueryRow(ctx, `SELECT display_name FROM users WHERE id = ?`, id).Scan(&name)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		d.Users[id] = name
	}
	return nil
}
