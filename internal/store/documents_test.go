package store_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// docWorld: county → street A (communities A1, A2) and street B (B1).
type docWorld struct {
	streetA, a1, a2, streetB, b1 *casework.Org
}

func docBuild(t *testing.T, db *store.DB) docWorld {
	t.Helper()
	sys := casework.SystemActor("test")
	mk := func(parent *casework.Org, kind casework.OrgKind, name string) *casework.Org {
		in := casework.OrgInput{Kind: kind, Name: name}
		if parent != nil {
			in.ParentID = parent.ID
		}
		return storetest.Must(db.CreateOrg(context.Background(), sys, in))
	}
	county := mk(mk(mk(nil, casework.KindProvince, "海南省"), casework.KindCity, "三亚市"), casework.KindCounty, "吉阳区")
	var w docWorld
	w.streetA = mk(county, casework.KindTownship, "椰林街道")
	w.a1 = mk(w.streetA, casework.KindCommunity, "安椰厂区")
	w.a2 = mk(w.streetA, casework.KindCommunity, "海湾社区")
	w.streetB = mk(county, casework.KindTownship, "红沙街道")
	w.b1 = mk(w.streetB, casework.KindCommunity, "红沙社区")
	return w
}

func docActor(name string, role casework.Role, org *casework.Org) *casework.Actor {
	return &casework.Actor{UserID: "u-" + name, Username: name, Name: name,
		Grants: []casework.Grant{{Role: role, OrgID: org.ID, OrgPath: org.Path}}}
}

// docPerson opens a file at org, executing a 社区戒毒 measure.
func docPerson(t *testing.T, db *store.DB, org *casework.Org, name, id string) *casework.Person {
	t.Helper()
	day := casework.DateOf(db.Now(), nil).AddDays(-40)
	return storetest.Must(db.CreatePerson(context.Background(), casework.SystemActor("test"), casework.PersonInput{
		OrgID: org.ID, Name: name, IDNumber: id, Phone: "13900139000",
	}, &casework.MeasureInput{Kind: casework.MeasureTreatment, DecisionNumber: "吉公（禁）社戒决字〔2026〕7号",
		DecisionAuthority: "三亚市公安局吉阳分局", DecisionDate: day.AddDays(-3), ReceivedDate: day, ReportDate: day.AddDays(2)}))
}

func docInput(title, sha string) store.DocumentInput {
	return store.DocumentInput{Kind: "decision", Title: title, Source: store.SourceUpload, SHA256: sha, MIME: "application/pdf", Size: 1234}
}

// docID completes a 17-digit body with its check character (GB 11643).
func docID(body string) string { return body + string(casework.IDCheckChar(body)) }

var shaA, shaB = strings.Repeat("a", 64), strings.Repeat("b", 64)

func docCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if !casework.IsCode(err, code) {
		t.Fatalf("%s: got %v, want %s", what, err, code)
	}
}

func TestDocumentAccess(t *testing.T) {
	storetest.EachWithClock(t, time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		ctx := context.Background()
		w := docBuild(t, db)
		p := docPerson(t, db, w.a1, "陈建国", docID("46020319850715001"))
		leadA := docActor("leadA", casework.RoleLead, w.streetA)
		police := docActor("police", casework.RolePolice, w.streetA)
		counsellor := docActor("counsellor", casework.RoleCounsellor, w.streetA)
		workerA2 := docActor("workerA2", casework.RoleWorker, w.a2)
		leadB := docActor("leadB", casework.RoleLead, w.streetB)

		tests := []struct {
			name  string
			actor *casework.Actor
			code  string // "" = allowed
		}{
			{"lead over the place files", leadA, ""},
			{"police read only", police, casework.EFORBIDDEN},
			{"counsellor not in the group", counsellor, casework.ENOTFOUND},
			{"worker of another community", workerA2, casework.ENOTFOUND},
			{"lead of another street", leadB, casework.ENOTFOUND},
		}
		for _, tt := range tests {
			t.Run("add/"+tt.name, func(t *testing.T) {
				_, err := db.AddDocument(ctx, tt.actor, p.ID, docInput("决定书", shaA))
				if tt.code == "" {
					if err != nil {
						t.Fatal(err)
					}
					return
				}
				docCode(t, "add", err, tt.code)
				docCode(t, "can add", db.CanAddDocument(ctx, tt.actor, p.ID), tt.code)
			})
		}
		docs := storetest.Must(db.ListDocuments(ctx, police, p.ID))
		if len(docs) != 1 || docs[0].Title != "决定书" || docs[0].Source != "upload" || docs[0].MeasureID == "" || docs[0].OrgID != w.a1.ID {
			t.Fatalf("police list: %+v", docs)
		}
		_, err := db.ListDocuments(ctx, workerA2, p.ID)
		docCode(t, "worker of another community lists", err, casework.ENOTFOUND)
		_, err = db.DownloadDocument(ctx, workerA2, docs[0].ID, func(*store.Document) error { return nil })
		docCode(t, "worker of another community downloads", err, casework.ENOTFOUND)
		_, err = db.DownloadDocument(ctx, leadB, docs[0].ID, func(*store.Document) error { return nil })
		docCode(t, "lead of another street downloads", err, casework.ENOTFOUND)
		_, err = db.DownloadDocument(ctx, police, "no-such-id", func(*store.Document) error { return nil })
		docCode(t, "unknown document", err, casework.ENOTFOUND)

		// The upload is on the timeline and in the audit log.
		tl, _, err := db.ListTimeline(ctx, leadA, p.ID, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if tl[0].Kind != "document.added" || !strings.Contains(tl[0].Data, "决定书") {
			t.Fatalf("timeline head: %+v", tl[0])
		}
		if n := docAuditCount(t, db, w, "document.upload", p.ID); n != 1 {
			t.Fatalf("%d document.upload audit rows, want 1", n)
		}

		// A download is an export: audited only when the content was read.
		failed := errors.New("disk gone")
		if _, err := db.DownloadDocument(ctx, police, docs[0].ID, func(*store.Document) error { return failed }); !errors.Is(err, failed) {
			t.Fatalf("failed fetch: %v", err)
		}
		if n := docAuditCount(t, db, w, "person.export", p.ID); n != 0 {
			t.Fatalf("a failed download was audited (%d rows)", n)
		}
		var got string
		if _, err := db.DownloadDocument(ctx, police, docs[0].ID, func(d *store.Document) error { got = d.SHA256; return nil }); err != nil || got != shaA {
			t.Fatalf("download: %v %q", err, got)
		}
		if n := docAuditCount(t, db, w, "person.export", p.ID); n != 1 {
			t.Fatalf("%d person.export audit rows after a download, want 1", n)
		}

		// Hand-over to street B: the old place (R11) keeps read access to
		// the documents filed before it, and sees nothing filed after.
		clock.Add(time.Hour)
		tf := storetest.Must(db.StartTransfer(ctx, leadA, p.ID, w.b1.ID, "本人迁居红沙社区"))
		clock.Add(time.Hour)
		storetest.Must(db.DecideTransfer(ctx, leadB, tf.ID, store.TransferDecision{Accept: true}))
		clock.Add(time.Hour)
		later := storetest.Must(db.AddDocument(ctx, leadB, p.ID, docInput("新协议书", shaB)))
		_, err = db.AddDocument(ctx, leadA, p.ID, docInput("旧地补传", shaB))
		docCode(t, "old place adds after hand-over", err, casework.EFORBIDDEN)
		old := storetest.Must(db.ListDocuments(ctx, leadA, p.ID))
		if len(old) != 1 || old[0].Title != "决定书" {
			t.Fatalf("old place sees %+v, want only the document filed before the hand-over", old)
		}
		_, err = db.DownloadDocument(ctx, leadA, later.ID, func(*store.Document) error { return nil })
		docCode(t, "old place downloads a later document", err, casework.ENOTFOUND)
		if _, err := db.DownloadDocument(ctx, leadA, old[0].ID, func(*store.Document) error { return nil }); err != nil {
			t.Fatalf("old place downloads an earlier document: %v", err)
		}
		now := storetest.Must(db.ListDocuments(ctx, leadB, p.ID))
		if len(now) != 2 || now[0].Title != "新协议书" || now[0].OrgID != w.b1.ID {
			t.Fatalf("new place sees %+v", now)
		}
		d := storetest.Must(db.LoadDossier(ctx, leadA, p.ID, store.DossierPrint))
		if d.Until.IsZero() || len(d.Documents) != 1 {
			t.Fatalf("old place's dossier: until %v, %d documents", d.Until, len(d.Documents))
		}
		for _, e := range d.Timeline {
			if e.At.After(d.Until) {
				t.Fatalf("old place's dossier has a later event %s at %v", e.Kind, e.At)
			}
		}
	})
}

func docAuditCount(t *testing.T, db *store.DB, w docWorld, action, personID string) int {
	t.Helper()
	auditor := docActor("auditor", casework.RoleAuditor, w.streetA)
	auditor.Grants = append(auditor.Grants, casework.Grant{Role: casework.RoleAuditor, OrgID: w.streetB.ID, OrgPath: w.streetB.Path})
	rows, _, err := db.ListAudit(context.Background(), auditor, store.AuditFilter{Action: action, TargetID: personID})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range rows {
		if r.Action == action {
			n++
		}
	}
	return n
}

func TestDocumentInputValidation(t *testing.T) {
	tests := []struct {
		name  string
		in    store.DocumentInput
		field string
	}{
		{"unknown kind", store.DocumentInput{Kind: "selfie", Title: "x"}, "kind"},
		{"no title", store.DocumentInput{Kind: "decision", Title: "  "}, "title"},
		{"long title", store.DocumentInput{Kind: "decision", Title: strings.Repeat("档", 101)}, "title"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if f := casework.ErrorField(tt.in.ValidateMeta()); f != tt.field {
				t.Fatalf("field %q, want %q", f, tt.field)
			}
		})
	}
	if !slices.Contains(store.DocumentKinds, "release_notice") || !slices.Contains(store.DocumentKinds, "exhortation") {
		t.Fatal("document kinds miss DOMAIN §1.7 entries")
	}
	// Content must be stored first: no row without a blob.
	in := docInput("x", "")
	if err := in.Validate(); err == nil {
		t.Fatal("a document without content validated")
	}
}

func TestLoadDossierIsAuditedAsExport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := docBuild(t, db)
		p := docPerson(t, db, w.a1, "林小梅", docID("46020319900301002"))
		leadA := docActor("leadA", casework.RoleLead, w.streetA)
		police := docActor("police", casework.RolePolice, w.streetA)
		storetest.Must(db.AddDocument(ctx, leadA, p.ID, docInput("决定书", shaA)))
		d := storetest.Must(db.LoadDossier(ctx, police, p.ID, store.DossierPDF))
		if d.Person.Name != "林小梅" || d.Person.IDNumber != "" || d.Person.IDMasked == "" || len(d.Measures) != 1 || len(d.Documents) != 1 || len(d.Timeline) < 3 {
			t.Fatalf("dossier: %+v", d)
		}
		if d.Township().ID != w.streetA.ID || len(d.Orgs) != 5 {
			t.Fatalf("township %s, orgs %d", d.Township().Name, len(d.Orgs))
		}
		if n := docAuditCount(t, db, w, "person.export", p.ID); n != 1 {
			t.Fatalf("%d export rows, want 1", n)
		}
		_, err := db.LoadDossier(ctx, police, p.ID, store.DossierGenerate)
		docCode(t, "police generates", err, casework.EFORBIDDEN)
		_, err = db.LoadDossier(ctx, docActor("c", casework.RoleCounsellor, w.streetA), p.ID, store.DossierPrint)
		docCode(t, "counsellor prints", err, casework.ENOTFOUND)
	})
}
