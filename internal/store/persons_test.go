package store_test

// Tests of the person file (一人一档, issue 3): persons, measures, the status
// machine, report deadlines, transfers, corrections and automatic release,
// on SQLite and (with KANGFU_TEST_POSTGRES) PostgreSQL.

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

var (
	pfSys = casework.SystemActor("test")
	pfBJ  = casework.LoadLocation("Asia/Shanghai")
	pfD   = casework.MustParseDate
)

// pfID returns a valid 18-character ID number (GB 11643) from area 460203
// for a birth date "YYYYMMDD", a sequence 0–99 and the sex.
func pfID(birth string, seq int, male bool) string {
	sexDigit := 2
	if male {
		sexDigit = 1
	}
	body := fmt.Sprintf("460203%s%02d%d", birth, seq, sexDigit)
	return body + string(casework.IDCheckChar(body))
}

// pfIDWithX returns a valid ID number whose check character is X.
func pfIDWithX(t *testing.T) string {
	for seq := range 100 {
		for _, male := range []bool{true, false} {
			if id := pfID("19900101", seq, male); id[17] == 'X' {
				return id
			}
		}
	}
	t.Fatal("no ID number with check character X")
	return ""
}

// pfMaskedID is the mask of R36: first 6 and last 4 characters.
func pfMaskedID(id string) string { return id[:6] + "********" + id[14:] }

// pfStaff creates a real user with one grant and returns it as an actor (a
// responsible worker must be a real account).
func pfStaff(t *testing.T, db *store.DB, username string, role casework.Role, org *casework.Org) *casework.Actor {
	t.Helper()
	u := storetest.Must(db.CreateUser(ctx, pfSys, casework.UserInput{Username: username, OrgID: org.ID, Password: "long-enough-pw"}, "x", false))
	g := storetest.Must(db.GrantRole(ctx, pfSys, u.ID, role, org.ID))
	return &casework.Actor{UserID: u.ID, Username: username, Name: username, Grants: []casework.Grant{*g}}
}

// pfWorld is the tree of buildTree with one account per role.
type pfWorld struct {
	tree
	lead, lead2, office, police, counsellor, workerA, workerA2, workerB *casework.Actor
	admin, auditor                                                      *casework.Actor
}

func pfBuild(t *testing.T, db *store.DB) pfWorld {
	t.Helper()
	w := pfWorld{tree: buildTree(t, db)}
	w.lead = pfStaff(t, db, "lead", casework.RoleLead, w.street)
	w.lead2 = pfStaff(t, db, "lead2", casework.RoleLead, w.street)
	w.office = pfStaff(t, db, "office", casework.RoleOffice, w.county)
	w.police = pfStaff(t, db, "police", casework.RolePolice, w.street)
	w.counsellor = pfStaff(t, db, "counsellor", casework.RoleCounsellor, w.street)
	w.workerA = pfStaff(t, db, "worker-a", casework.RoleWorker, w.commA)
	w.workerA2 = pfStaff(t, db, "worker-a2", casework.RoleWorker, w.commA)
	w.workerB = pfStaff(t, db, "worker-b", casework.RoleWorker, w.commB)
	w.admin = pfStaff(t, db, "admin", casework.RoleAdmin, w.county)
	w.auditor = pfStaff(t, db, "auditor", casework.RoleAuditor, w.county)
	return w
}

func pfPerson(org *casework.Org, name, id string) casework.PersonInput {
	return casework.PersonInput{OrgID: org.ID, Name: name, IDNumber: id}
}

// pfTreatment is a 社区戒毒 decision received on received.
func pfTreatment(received casework.Date) *casework.MeasureInput {
	return &casework.MeasureInput{Kind: casework.MeasureTreatment, DecisionNumber: "三公天社戒决字〔" + fmt.Sprint(received.Year) + "〕1号",
		DecisionAuthority: "三亚市公安局天涯分局", DecisionDate: received, ReceivedDate: received}
}

// pfRehab is a 社区康复 decision of months months received on received.
func pfRehab(received casework.Date, months int) *casework.MeasureInput {
	m := pfTreatment(received)
	m.Kind, m.TermMonths, m.DecisionNumber = casework.MeasureRehab, months, "三公天社康决字〔"+fmt.Sprint(received.Year)+"〕2号"
	return m
}

// pfReported is pfTreatment already reported on report.
func pfReported(received, report casework.Date) *casework.MeasureInput {
	m := pfTreatment(received)
	m.ReportDate = report
	return m
}

func pfCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if !casework.IsCode(err, code) {
		t.Fatalf("%s: want %s, got %v", what, code, err)
	}
}

func pfField(t *testing.T, what string, err error, field string) {
	t.Helper()
	if !casework.IsCode(err, casework.EINVALID) || casework.ErrorField(err) != field {
		t.Fatalf("%s: want invalid on field %q, got %v (field %q)", what, field, err, casework.ErrorField(err))
	}
}

// pfCurrent returns the person's measure in force (or latest), as the reader sees it.
func pfCurrent(t *testing.T, db *store.DB, actor *casework.Actor, personID string) *store.Measure {
	t.Helper()
	ms, err := db.ListMeasures(ctx, actor, personID)
	if err != nil || len(ms) == 0 {
		t.Fatalf("list measures: %d, %v", len(ms), err)
	}
	return ms[0]
}

// pfAudit returns the audit rows of an action about a person.
func pfAudit(t *testing.T, db *store.DB, w pfWorld, action, personID string) []store.AuditRecord {
	t.Helper()
	recs, _, err := db.ListAudit(ctx, actorWith(casework.RoleAuditor, w.province), store.AuditFilter{Action: action, TargetID: personID, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	var out []store.AuditRecord
	for _, r := range recs {
		if r.Action == action {
			out = append(out, r)
		}
	}
	return out
}

func pfNames(ps []*casework.Person) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Name
	}
	return out
}

func pfList(t *testing.T, db *store.DB, actor *casework.Actor, f store.PersonFilter) ([]string, int) {
	t.Helper()
	ps, total, err := db.ListPersons(ctx, actor, f)
	if err != nil {
		t.Fatalf("list %+v: %v", f, err)
	}
	return pfNames(ps), total
}

// pfStart is the clock of most tests: 15 June 2021, noon in Beijing.
var pfStart = time.Date(2021, 6, 15, 4, 0, 0, 0, time.UTC)

// 1. Create, validate, encrypt at rest, mask, reveal, audit.
func TestPersonCreateEncryptMaskReveal(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			clock := &storetest.Clock{T: pfStart}
			db := storetest.Open(t, e, clock.Now)
			raw := openRaw(t, e)
			w := pfBuild(t, db)

			id := pfID("19850612", 12, true)
			const phone, household, residence, health, drugNote, contactPhone = "13800138000", "海南省三亚市天涯区椰风路88号", "三亚市天涯区海湾小区3栋", "患有乙肝，需定期复查", "2015年首次吸食冰毒", "13912345678"
			in := pfPerson(w.commA, "张三", id)
			in.Phone, in.HouseholdAddr, in.ResidenceAddr, in.HealthNotes = phone, household, residence, health
			in.Contacts = []casework.Contact{{Name: "张母", Relation: "母亲", Phone: contactPhone}}
			in.DrugHistory = casework.DrugHistory{Substances: []string{"冰毒"}, Notes: drugNote}

			t.Run("id validation", func(t *testing.T) {
				for _, c := range []struct{ name, id string }{
					{"wrong check digit", id[:17] + string("0123456789X"[(strings.IndexByte("0123456789X", id[17])+1)%11])},
					{"15 digits", "460203850612123"},
					{"impossible date", func() string { b := "46020319850231123"; return b + string(casework.IDCheckChar(b)) }()},
					{"future birth", func() string { b := "46020320300101123"; return b + string(casework.IDCheckChar(b)) }()},
				} {
					t.Run(c.name, func(t *testing.T) {
						bad := in
						bad.IDNumber = c.id
						_, err := db.CreatePerson(ctx, w.workerA, bad, pfTreatment(pfD("2021-06-01")))
						pfField(t, "create with "+c.name, err, "id_number")
					})
				}
				bad := in
				bad.Sex = "F"
				_, err := db.CreatePerson(ctx, w.workerA, bad, nil)
				pfField(t, "sex contradicting the ID", err, "sex")
				bad.Sex, bad.BirthDate = "", pfD("1985-06-13")
				_, err = db.CreatePerson(ctx, w.workerA, bad, nil)
				pfField(t, "birth date contradicting the ID", err, "birth_date")
				if _, n := pfList(t, db, w.lead, store.PersonFilter{IncludeEnded: true}); n != 0 {
					t.Fatalf("refused creations left %d persons", n)
				}
			})

			p, err := db.CreatePerson(ctx, w.workerA, in, pfTreatment(pfD("2021-06-01")))
			if err != nil {
				t.Fatal(err)
			}
			t.Run("derived and masked", func(t *testing.T) {
				if p.Sex != "M" || p.BirthDate != pfD("1985-06-12") {
					t.Fatalf("sex %q birth %s, want M 1985-06-12 from the ID number", p.Sex, p.BirthDate)
				}
				if p.IDMasked != pfMaskedID(id) || p.PhoneMasked != "138****8000" || p.IDNumber != "" || p.Phone != "" {
					t.Fatalf("masks: id %q phone %q, full id %q phone %q", p.IDMasked, p.PhoneMasked, p.IDNumber, p.Phone)
				}
				if p.WorkerID != w.workerA.UserID {
					t.Fatalf("a worker's new person joins its caseload: worker %q", p.WorkerID)
				}
				if p.Status != casework.StatusPendingReport || p.ReportDeadline != pfD("2021-06-16") {
					t.Fatalf("status %s deadline %s, want pending_report 2021-06-16 (R1)", p.Status, p.ReportDeadline)
				}
			})

			t.Run("duplicate id", func(t *testing.T) {
				dup := pfPerson(w.commB, "张三二", id)
				_, err := db.CreatePerson(ctx, w.lead, dup, nil)
				pfCode(t, "same ID number again", err, casework.ECONFLICT)
				xid := pfIDWithX(t)
				storetest.Must(db.CreatePerson(ctx, w.lead, pfPerson(w.commB, "李四", xid), nil))
				_, err = db.CreatePerson(ctx, w.lead, pfPerson(w.commB, "李四二", strings.ToLower(xid)), nil)
				pfCode(t, "same ID number with lower-case x", err, casework.ECONFLICT)
			})

			t.Run("encrypted at rest", func(t *testing.T) {
				secrets := map[string]string{"id": id, "phone": phone, "household": household, "residence": residence,
					"health": health, "drug": drugNote, "contact phone": contactPhone}
				for _, table := range []string{"persons", "timeline", "audit_log", "status_events", "measures", "custody"} {
					rows, err := raw.QueryContext(ctx, "SELECT * FROM "+table)
					if err != nil {
						t.Fatal(err)
					}
					cols, _ := rows.Columns()
					n := 0
					for rows.Next() {
						n++
						vals := make([]any, len(cols))
						ptrs := make([]any, len(cols))
						for i := range vals {
							ptrs[i] = &vals[i]
						}
						if err := rows.Scan(ptrs...); err != nil {
							t.Fatal(err)
						}
						for i, v := range vals {
							s := fmt.Sprint(v)
							if b, ok := v.([]byte); ok {
								s = string(b)
							}
							for what, secret := range secrets {
								if strings.Contains(s, secret) {
									t.Errorf("%s.%s holds the plain %s", table, cols[i], what)
								}
							}
						}
					}
					rows.Close()
					if table == "persons" && n != 2 {
						t.Fatalf("raw persons rows: %d, want 2", n)
					}
				}
			})

			t.Run("reader sees addresses and health, ID and phone masked", func(t *testing.T) {
				for _, a := range []*casework.Actor{w.workerA, w.workerA2, w.lead, w.police, w.office} {
					got, err := db.GetPerson(ctx, a, p.ID, "")
					if err != nil {
						t.Fatalf("%s: %v", a.Username, err)
					}
					if got.HouseholdAddr != household || got.ResidenceAddr != residence || got.HealthNotes != health || got.DrugHistory.Notes != drugNote {
						t.Fatalf("%s sees %+v", a.Username, got)
					}
					if got.IDNumber != "" || got.Phone != "" || got.IDMasked != pfMaskedID(id) || got.PhoneMasked != "138****8000" {
						t.Fatalf("%s: id %q/%q phone %q/%q", a.Username, got.IDNumber, got.IDMasked, got.Phone, got.PhoneMasked)
					}
					if len(got.Contacts) != 1 || got.Contacts[0].Phone != "139****5678" {
						t.Fatalf("%s: contacts %+v, want the phone masked", a.Username, got.Contacts)
					}
				}
			})

			t.Run("read audited", func(t *testing.T) {
				before := len(pfAudit(t, db, w, "person.read", p.ID))
				if _, err := db.GetPerson(ctx, w.police, p.ID, "走访核查"); err != nil {
					t.Fatal(err)
				}
				after := pfAudit(t, db, w, "person.read", p.ID)
				if len(after) != before+1 || after[0].ActorID != w.police.UserID || after[0].Reason != "走访核查" {
					t.Fatalf("person.read rows %d → %d; newest %+v", before, len(after), after[0])
				}
			})

			t.Run("reveal", func(t *testing.T) {
				_, err := db.Reveal(ctx, w.workerA, p.ID, "id_number", "  ")
				pfField(t, "reveal without reason", err, "reason")
				_, err = db.Reveal(ctx, w.workerA, p.ID, "health", "核对")
				pfField(t, "reveal of an unknown field", err, "field")
				_, err = db.Reveal(ctx, w.admin, p.ID, "id_number", "核对")
				pfCode(t, "admin reveals", err, casework.ENOTFOUND)
				if n := len(pfAudit(t, db, w, "person.reveal", p.ID)); n != 0 {
					t.Fatalf("refused reveals audited as reveals: %d", n)
				}
				full, err := db.Reveal(ctx, w.workerA, p.ID, "id_number", "办理低保核对身份")
				if err != nil || full != id {
					t.Fatalf("reveal id: %q %v", full, err)
				}
				ph, err := db.Reveal(ctx, w.police, p.ID, "phone", "联系本人")
				if err != nil || ph != phone {
					t.Fatalf("reveal phone: %q %v", ph, err)
				}
				recs := pfAudit(t, db, w, "person.reveal", p.ID)
				if len(recs) != 2 || recs[1].Reason != "办理低保核对身份" || recs[1].ActorID != w.workerA.UserID ||
					!strings.Contains(recs[1].Detail, "id_number") || !strings.Contains(recs[0].Detail, "phone") {
					t.Fatalf("reveal audit rows: %+v", recs)
				}
				for _, r := range recs {
					if strings.Contains(r.Detail+r.Reason, id) || strings.Contains(r.Detail+r.Reason, phone) {
						t.Fatalf("the audit row holds the revealed value: %+v", r)
					}
				}
			})
		})
	}
}

// 2. Scope and roles.
func TestPersonScopeAndRoles(t *testing.T) {
	storetest.EachWithClock(t, pfStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := pfBuild(t, db)
		mk := func(actor *casework.Actor, org *casework.Org, name, id string) *casework.Person {
			in := pfPerson(org, name, id)
			in.Phone, in.HouseholdAddr, in.ResidenceAddr, in.HealthNotes = "13800138000", "户籍地址", "居住地址", "健康情况"
			in.DrugHistory.Notes = "吸毒史"
			return storetest.Must(db.CreatePerson(ctx, actor, in, pfReported(pfD("2021-06-01"), pfD("2021-06-05"))))
		}
		pA := mk(w.workerA, w.commA, "甲一", pfID("19800101", 1, true))   // workerA's caseload
		pA2 := mk(w.workerA2, w.commA, "甲二", pfID("19800101", 2, true)) // workerA2's, same community
		pB := mk(w.workerB, w.commB, "乙一", pfID("19800101", 3, true))
		if pA.WorkerID != w.workerA.UserID || pA2.WorkerID != w.workerA2.UserID {
			t.Fatal("creating workers not assigned")
		}
		rename := func(s string) store.PersonUpdate { return store.PersonUpdate{Employment: &s} }

		type want struct {
			read  map[string]bool // person → readable
			write map[string]string
			list  int
		}
		all := map[string]bool{pA.ID: true, pA2.ID: true, pB.ID: true}
		none := map[string]bool{}
		forb := casework.EFORBIDDEN
		for _, c := range []struct {
			name  string
			actor *casework.Actor
			want  want
		}{
			{"worker A", w.workerA, want{map[string]bool{pA.ID: true, pA2.ID: true}, map[string]string{pA.ID: "", pA2.ID: forb, pB.ID: casework.ENOTFOUND}, 2}},
			{"worker A2", w.workerA2, want{map[string]bool{pA.ID: true, pA2.ID: true}, map[string]string{pA.ID: forb, pA2.ID: "", pB.ID: casework.ENOTFOUND}, 2}},
			{"worker B", w.workerB, want{map[string]bool{pB.ID: true}, map[string]string{pA.ID: casework.ENOTFOUND, pB.ID: ""}, 1}},
			{"lead", w.lead, want{all, map[string]string{pA.ID: "", pA2.ID: "", pB.ID: ""}, 3}},
			{"police", w.police, want{all, map[string]string{pA.ID: forb, pB.ID: forb}, 3}},
			{"office", w.office, want{all, map[string]string{pA.ID: forb, pB.ID: forb}, 3}},
			{"admin", w.admin, want{none, map[string]string{pA.ID: casework.ENOTFOUND}, 0}},
			{"auditor", w.auditor, want{none, map[string]string{pA.ID: casework.ENOTFOUND}, 0}},
			{"counsellor outside the group", w.counsellor, want{none, map[string]string{pA.ID: casework.ENOTFOUND}, 0}},
			{"lead of another street", actorWith(casework.RoleLead, w.commB), want{map[string]bool{pB.ID: true}, map[string]string{pA.ID: casework.ENOTFOUND}, 1}},
		} {
			t.Run(c.name, func(t *testing.T) {
				for _, p := range []*casework.Person{pA, pA2, pB} {
					got, err := db.GetPerson(ctx, c.actor, p.ID, "")
					if c.want.read[p.ID] {
						if err != nil || got.ID != p.ID {
							t.Fatalf("read %s: %v", p.Name, err)
						}
					} else {
						pfCode(t, "read "+p.Name, err, casework.ENOTFOUND) // never forbidden: existence is not disclosed
					}
				}
				for pid, code := range c.want.write {
					_, err := db.UpdatePerson(ctx, c.actor, pid, rename("务工-"+c.name))
					if code == "" {
						if err != nil {
							t.Fatalf("update %s: %v", pid, err)
						}
					} else {
						pfCode(t, "update "+pid, err, code)
					}
				}
				names, total := pfList(t, db, c.actor, store.PersonFilter{})
				if total != c.want.list || len(names) != c.want.list {
					t.Fatalf("list: %v (total %d), want %d", names, total, c.want.list)
				}
			})
		}
		t.Run("police and office make no transitions", func(t *testing.T) {
			for _, a := range []*casework.Actor{w.police, w.office} {
				_, err := db.Transition(ctx, a, pA.ID, store.TransitionInput{Action: casework.ActStartLeave, Reason: "探亲"})
				pfCode(t, a.Username+" transition", err, casework.EFORBIDDEN)
			}
			_, err := db.Transition(ctx, w.workerA2, pA.ID, store.TransitionInput{Action: casework.ActStartLeave, Reason: "探亲"})
			pfCode(t, "another worker's person", err, casework.EFORBIDDEN)
		})

		t.Run("counsellor in the working group", func(t *testing.T) {
			if err := db.AddGroupMember(ctx, w.counsellor, pA.ID, store.GroupMember{Role: "medical", UserID: w.counsellor.UserID}); !casework.IsCode(err, casework.ENOTFOUND) {
				t.Fatalf("counsellor adds itself: %v", err)
			}
			if err := db.AddGroupMember(ctx, w.workerA, pA.ID, store.GroupMember{Role: "medical", UserID: w.counsellor.UserID}); err != nil {
				t.Fatal(err)
			}
			got, err := db.GetPerson(ctx, w.counsellor, pA.ID, "")
			if err != nil {
				t.Fatal(err)
			}
			if !got.Access.Minimal || got.Access.Sensitive || got.Access.Write {
				t.Fatalf("counsellor access %+v", got.Access)
			}
			if got.IDMasked != "" || got.PhoneMasked != "" || got.HouseholdAddr != "" || got.ResidenceAddr != "" ||
				got.DrugHistory.Notes != "" || len(got.Contacts) != 0 || got.HealthNotes != "健康情况" {
				t.Fatalf("minimal profile shows %+v", got)
			}
			_, err = db.GetPerson(ctx, w.counsellor, pA2.ID, "")
			pfCode(t, "counsellor reads a person outside its groups", err, casework.ENOTFOUND)
			_, err = db.UpdatePerson(ctx, w.counsellor, pA.ID, rename("x"))
			pfCode(t, "counsellor writes", err, casework.EFORBIDDEN)
			_, err = db.Reveal(ctx, w.counsellor, pA.ID, "id_number", "核对")
			pfCode(t, "counsellor reveals", err, casework.EFORBIDDEN)
			ps, total, err := db.ListPersons(ctx, w.counsellor, store.PersonFilter{})
			if err != nil || total != 1 || len(ps) != 1 || ps[0].ID != pA.ID {
				t.Fatalf("counsellor list: %v %d %v", pfNames(ps), total, err)
			}
			if ps[0].IDMasked != "" || ps[0].PhoneMasked != "" {
				t.Fatalf("counsellor list row shows id %q phone %q", ps[0].IDMasked, ps[0].PhoneMasked)
			}
			// A user who is a worker in community B and a counsellor in the
			// street sees the minimal profile of A's person in a list too.
			both := &casework.Actor{UserID: w.counsellor.UserID, Username: "both", Grants: append(slices.Clone(w.counsellor.Grants),
				casework.Grant{Role: casework.RoleWorker, OrgID: w.commB.ID, OrgPath: w.commB.Path})}
			ps, _, err = db.ListPersons(ctx, both, store.PersonFilter{})
			if err != nil || len(ps) != 2 {
				t.Fatalf("counsellor+worker list: %v %v", pfNames(ps), err)
			}
			for _, p := range ps {
				if p.ID == pA.ID && (p.IDMasked != "" || p.PhoneMasked != "") {
					t.Fatalf("a person seen as counsellor shows id %q phone %q in a list", p.IDMasked, p.PhoneMasked)
				}
				if p.ID == pB.ID && p.IDMasked == "" {
					t.Fatal("a person seen as worker lost its masked ID in a list")
				}
			}
		})
	})
}

// 3. Lists: search, filters, R35, pinyin order, paging.
func TestListPersonsSearchFilterSort(t *testing.T) {
	storetest.EachWithClock(t, pfStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := pfBuild(t, db)
		xid := pfIDWithX(t)
		type spec struct {
			name  string
			org   *casework.Org
			id    string
			phone string
			m     *casework.MeasureInput
		}
		specs := []spec{
			{"张三", w.commA, pfID("19800101", 1, true), "13800138000", pfReported(pfD("2021-05-01"), pfD("2021-05-03"))},
			{"张三丰", w.commA, pfID("19800101", 2, true), "", pfReported(pfD("2021-05-01"), pfD("2021-05-03"))},
			{"王小明", w.commA, xid, "13900139000", pfTreatment(pfD("2021-06-10"))},             // pending, deadline 25 June
			{"安小红", w.commB, pfID("19800101", 3, false), "", pfRehab(pfD("2021-06-14"), 24)}, // pending, deadline 29 June
			{"李_四", w.commB, pfID("19800101", 4, true), "", pfReported(pfD("2021-05-01"), pfD("2021-05-03"))},
			{"赵%五", w.commB, pfID("19800101", 5, true), "", pfReported(pfD("2021-05-01"), pfD("2021-05-03"))},
			{"欧阳娜娜", w.commA, pfID("19800101", 6, false), "", pfReported(pfD("2018-05-01"), pfD("2018-05-03"))}, // released below
		}
		ids := map[string]string{}
		for _, s := range specs {
			in := pfPerson(s.org, s.name, s.id)
			in.Phone = s.phone
			if s.org == w.commA {
				in.WorkerID = w.workerA.UserID
			}
			p, err := db.CreatePerson(ctx, w.lead, in, s.m)
			if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			ids[s.name] = p.ID
		}
		if _, err := db.Transition(ctx, w.lead, ids["欧阳娜娜"], store.TransitionInput{Action: casework.ActRelease, EffectiveDate: pfD("2021-05-03")}); err != nil {
			t.Fatal(err)
		}

		for _, c := range []struct {
			name string
			f    store.PersonFilter
			want []string
		}{
			{"all routine, by pinyin", store.PersonFilter{}, []string{"安小红", "李_四", "王小明", "张三", "张三丰", "赵%五"}},
			{"one character", store.PersonFilter{Query: "张"}, []string{"张三", "张三丰"}},
			{"one character inside", store.PersonFilter{Query: "小"}, []string{"安小红", "王小明"}},
			{"two characters", store.PersonFilter{Query: "三丰"}, []string{"张三丰"}},
			{"whole name", store.PersonFilter{Query: "王小明"}, []string{"王小明"}},
			{"no match", store.PersonFilter{Query: "钱"}, nil},
			{"percent literal", store.PersonFilter{Query: "%"}, []string{"赵%五"}},
			{"underscore literal", store.PersonFilter{Query: "_"}, []string{"李_四"}},
			{"wildcard not a wildcard", store.PersonFilter{Query: "张%"}, nil},
			{"underscore not any character", store.PersonFilter{Query: "张_"}, nil},
			{"percent inside", store.PersonFilter{Query: "%五"}, []string{"赵%五"}},
			{"id number", store.PersonFilter{Query: specs[0].id}, []string{"张三"}},
			{"id number lower-case x", store.PersonFilter{Query: strings.ToLower(xid)}, []string{"王小明"}},
			{"id number with spaces around", store.PersonFilter{Query: " " + xid + " "}, []string{"王小明"}},
			{"id number not on file", store.PersonFilter{Query: pfID("19800101", 9, true)}, nil},
			{"phone", store.PersonFilter{Query: "13900139000"}, []string{"王小明"}},
			{"phone with spaces", store.PersonFilter{Query: "138 0013 8000"}, []string{"张三"}},
			{"partial phone finds nothing", store.PersonFilter{Query: "1380013"}, nil},
			{"status", store.PersonFilter{Status: []casework.Status{casework.StatusPendingReport}}, []string{"安小红", "王小明"}},
			{"kind", store.PersonFilter{Kind: casework.MeasureRehab}, []string{"安小红"}},
			{"worker", store.PersonFilter{WorkerID: w.workerA.UserID}, []string{"王小明", "张三", "张三丰"}},
			{"org subtree community", store.PersonFilter{OrgID: w.commB.ID}, []string{"安小红", "李_四", "赵%五"}},
			{"org subtree street", store.PersonFilter{OrgID: w.street.ID, Query: "小"}, []string{"安小红", "王小明"}},
			{"deadline within 10 days", store.PersonFilter{DeadlineDays: 10, Today: pfD("2021-06-15")}, []string{"王小明"}},
			{"deadline within 14 days", store.PersonFilter{DeadlineDays: 14, Today: pfD("2021-06-15")}, []string{"安小红", "王小明"}},
			{"deadline, by deadline", store.PersonFilter{DeadlineDays: 30, Today: pfD("2021-06-15"), Sort: "deadline"}, []string{"王小明", "安小红"}},
			{"released left out (R35)", store.PersonFilter{Query: "欧阳"}, nil},
			{"released found on purpose", store.PersonFilter{Query: "欧阳", IncludeEnded: true}, []string{"欧阳娜娜"}},
			{"released by status", store.PersonFilter{Status: []casework.Status{casework.StatusReleased}}, []string{"欧阳娜娜"}},
			{"include ended, all", store.PersonFilter{IncludeEnded: true}, []string{"安小红", "李_四", "欧阳娜娜", "王小明", "张三", "张三丰", "赵%五"}},
		} {
			t.Run(c.name, func(t *testing.T) {
				names, total := pfList(t, db, w.lead, c.f)
				if !slices.Equal(names, c.want) || total != len(c.want) {
					t.Fatalf("got %v (total %d), want %v", names, total, c.want)
				}
			})
		}
		t.Run("worker's list is scoped before filtering", func(t *testing.T) {
			if names, _ := pfList(t, db, w.workerA, store.PersonFilter{Query: "%"}); len(names) != 0 {
				t.Fatalf("worker A finds B's person: %v", names)
			}
			if _, _, err := db.ListPersons(ctx, w.workerA, store.PersonFilter{OrgID: w.commB.ID}); !casework.IsCode(err, casework.ENOTFOUND) {
				t.Fatalf("org filter outside scope: %v", err)
			}
		})
		t.Run("masked in lists", func(t *testing.T) {
			ps, _, err := db.ListPersons(ctx, w.lead, store.PersonFilter{Query: "张三"})
			if err != nil || len(ps) != 2 {
				t.Fatal(err)
			}
			if ps[0].IDMasked != pfMaskedID(specs[0].id) || ps[0].PhoneMasked != "138****8000" || ps[0].IDNumber != "" || ps[0].Phone != "" || ps[0].HouseholdAddr != "" {
				t.Fatalf("list row %+v", ps[0])
			}
		})
		t.Run("paging", func(t *testing.T) {
			var seen []string
			for off := 0; off < 8; off += 3 {
				names, total := pfList(t, db, w.lead, store.PersonFilter{IncludeEnded: true, Offset: off, Limit: 3})
				if total != 7 {
					t.Fatalf("total %d, want 7", total)
				}
				seen = append(seen, names...)
			}
			if want := []string{"安小红", "李_四", "欧阳娜娜", "王小明", "张三", "张三丰", "赵%五"}; !slices.Equal(seen, want) {
				t.Fatalf("pages %v, want %v", seen, want)
			}
		})
		t.Run("rename moves the name index", func(t *testing.T) {
			nm := "钱小六"
			if _, err := db.UpdatePerson(ctx, w.lead, ids["李_四"], store.PersonUpdate{Name: &nm}); err != nil {
				t.Fatal(err)
			}
			if names, _ := pfList(t, db, w.lead, store.PersonFilter{Query: "_"}); len(names) != 0 {
				t.Fatalf("old name still found: %v", names)
			}
			if names, _ := pfList(t, db, w.lead, store.PersonFilter{Query: "小六"}); !slices.Equal(names, []string{"钱小六"}) {
				t.Fatalf("new name not found: %v", names)
			}
		})
	})
}

// 4. Status machine, terms, release, read-only archive and corrections.
func TestStatusMachineTermsAndCorrections(t *testing.T) {
	// Noon in Beijing on 29 February 2020.
	storetest.EachWithClock(t, time.Date(2020, 2, 29, 4, 0, 0, 0, time.UTC), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := pfBuild(t, db)
		p := storetest.Must(db.CreatePerson(ctx, w.workerA, pfPerson(w.commA, "陈一", pfID("19800101", 1, true)), pfTreatment(pfD("2020-02-20"))))
		tr := func(actor *casework.Actor, in store.TransitionInput) (*store.Measure, error) {
			return db.Transition(ctx, actor, p.ID, in)
		}

		t.Run("refused before report", func(t *testing.T) {
			_, err := tr(w.workerA, store.TransitionInput{Action: casework.ActResume, Reason: "x"})
			pfCode(t, "resume while pending", err, casework.ECONFLICT)
			_, err = tr(w.workerA, store.TransitionInput{Action: casework.ActReportIn, EffectiveDate: pfD("2020-03-01")})
			pfField(t, "report in the future", err, "effective_date")
			_, err = tr(w.workerA, store.TransitionInput{Action: casework.ActReportIn, EffectiveDate: pfD("2020-02-19")})
			pfField(t, "report before the decision was received", err, "effective_date")
			_, err = tr(w.workerA, store.TransitionInput{Action: casework.ActTransferOut, Reason: "x"})
			pfField(t, "transfer through Transition", err, "action")
			_, err = tr(w.workerA, store.TransitionInput{Action: "fly"})
			pfField(t, "unknown action", err, "action")
		})

		// R3: 社区戒毒 runs 3 years from the report date. Reported on 29
		// February 2020, it ends on 28 February 2023 (Date.AddYears moves a
		// day that does not exist back to the month's last day).
		m, err := tr(w.workerA, store.TransitionInput{Action: casework.ActReportIn})
		if err != nil {
			t.Fatal(err)
		}
		if m.Status != casework.StatusExecuting || m.ReportDate != pfD("2020-02-29") || m.TermMonths != 36 || m.TermEnd != pfD("2023-02-28") {
			t.Fatalf("after report-in: %s report %s months %d end %s", m.Status, m.ReportDate, m.TermMonths, m.TermEnd)
		}
		if got := storetest.Must(db.GetPerson(ctx, w.workerA, p.ID, "")); got.Status != casework.StatusExecuting || got.TermEnd != pfD("2023-02-28") || !got.ReportDeadline.IsZero() {
			t.Fatalf("person row after report-in: %s end %s deadline %s", got.Status, got.TermEnd, got.ReportDeadline)
		}

		t.Run("R4 rehab as decided", func(t *testing.T) {
			q := storetest.Must(db.CreatePerson(ctx, w.workerA, pfPerson(w.commA, "陈二", pfID("19800101", 2, true)), pfRehab(pfD("2020-02-20"), 24)))
			m, err := db.Transition(ctx, w.workerA, q.ID, store.TransitionInput{Action: casework.ActReportIn, EffectiveDate: pfD("2020-02-25")})
			if err != nil || m.TermEnd != pfD("2022-02-25") || m.Kind != casework.MeasureRehab {
				t.Fatalf("rehab 24 months reported 2020-02-25: end %s, %v", m.TermEnd, err)
			}
			_, err = db.CreatePerson(ctx, w.workerA, pfPerson(w.commA, "陈三", pfID("19800101", 3, true)), pfRehab(pfD("2020-02-20"), 40))
			pfField(t, "rehab over 36 months", err, "term_months")
			if names, _ := pfList(t, db, w.lead, store.PersonFilter{Query: "陈三"}); len(names) != 0 {
				t.Fatal("a refused measure left its person behind (half-written)")
			}
		})

		t.Run("refused while executing", func(t *testing.T) {
			_, err := tr(w.workerA, store.TransitionInput{Action: casework.ActResume, Reason: "x"})
			pfCode(t, "resume when executing", err, casework.ECONFLICT)
			_, err = tr(w.workerA, store.TransitionInput{Action: casework.ActReportIn})
			pfCode(t, "report twice", err, casework.ECONFLICT)
			_, err = tr(w.workerA, store.TransitionInput{Action: casework.ActSuspend})
			pfField(t, "suspend without a reason", err, "reason")
		})

		t.Run("suspend and resume", func(t *testing.T) {
			clock.T = time.Date(2020, 6, 1, 4, 0, 0, 0, time.UTC)
			if _, err := tr(w.workerA, store.TransitionInput{Action: casework.ActSuspend, EffectiveDate: pfD("2020-05-01"), Reason: "被刑事拘留"}); err != nil {
				t.Fatal(err)
			}
			_, err := tr(w.workerA, store.TransitionInput{Action: casework.ActReportIn})
			pfCode(t, "report in while suspended", err, casework.ECONFLICT)
			_, err = tr(w.workerA, store.TransitionInput{Action: casework.ActResume, EffectiveDate: pfD("2020-04-30"), Reason: "释放"})
			pfField(t, "resume before the suspension", err, "effective_date")
			m, err := tr(w.workerA, store.TransitionInput{Action: casework.ActResume, EffectiveDate: pfD("2020-05-31"), Reason: "释放"})
			if err != nil {
				t.Fatal(err)
			}
			// Default policy (TermPolicy.PauseClockOnSuspension false, R13
			// UNCONFIRMED): the days are recorded, the end date stays.
			if m.Status != casework.StatusExecuting || m.SuspendedDays != 30 || m.TermEnd != pfD("2023-02-28") || !m.SuspendedSince.IsZero() {
				t.Fatalf("after resume: %s suspended %d days since %s, end %s", m.Status, m.SuspendedDays, m.SuspendedSince, m.TermEnd)
			}
			var acts []casework.Action
			for _, e := range m.Events {
				acts = append(acts, e.Action)
			}
			if want := []casework.Action{casework.ActReportIn, casework.ActSuspend, casework.ActResume}; !slices.Equal(acts, want) {
				t.Fatalf("events %v, want %v", acts, want)
			}
			if m.Events[1].Reason != "被刑事拘留" || m.Events[1].ActorID != w.workerA.UserID || m.Events[1].EffectiveDate != pfD("2020-05-01") {
				t.Fatalf("suspend event %+v", m.Events[1])
			}
		})

		t.Run("release", func(t *testing.T) {
			clock.T = time.Date(2023, 3, 1, 4, 0, 0, 0, time.UTC)
			_, err := tr(w.workerA, store.TransitionInput{Action: casework.ActRelease, EffectiveDate: pfD("2023-02-27")})
			pfField(t, "release before the end of the term (R15)", err, "effective_date")
			m, err := tr(w.workerA, store.TransitionInput{Action: casework.ActRelease, EffectiveDate: pfD("2023-02-28")})
			if err != nil {
				t.Fatal(err)
			}
			if m.InForce || m.Status != casework.StatusReleased || m.EndedOn != pfD("2023-02-28") || m.NoRelapseOn != pfD("2026-02-28") {
				t.Fatalf("released measure: in force %v %s ended %s no-relapse %s (R16)", m.InForce, m.Status, m.EndedOn, m.NoRelapseOn)
			}
			got := storetest.Must(db.GetPerson(ctx, w.workerA, p.ID, ""))
			if got.Status != casework.StatusReleased || got.ReleasedOn != pfD("2023-02-28") {
				t.Fatalf("person after release: %s released on %s", got.Status, got.ReleasedOn)
			}
			_, err = tr(w.workerA, store.TransitionInput{Action: casework.ActResume, Reason: "x"})
			pfCode(t, "transition after release", err, casework.ECONFLICT)
		})

		t.Run("archived file read-only, corrections", func(t *testing.T) {
			addr := "更正后的居住地址"
			for _, a := range []*casework.Actor{w.workerA, w.lead} {
				_, err := db.UpdatePerson(ctx, a, p.ID, store.PersonUpdate{ResidenceAddr: &addr})
				pfCode(t, a.Username+" edits a released file", err, casework.ECONFLICT)
			}
			_, err := db.RequestCorrection(ctx, w.lead, p.ID, store.PersonUpdate{ResidenceAddr: &addr}, " ")
			pfField(t, "correction without reason", err, "reason")
			_, err = db.RequestCorrection(ctx, w.police, p.ID, store.PersonUpdate{ResidenceAddr: &addr}, "登记错误")
			pfCode(t, "police asks for a correction", err, casework.EFORBIDDEN)
			cid, err := db.RequestCorrection(ctx, w.lead, p.ID, store.PersonUpdate{ResidenceAddr: &addr}, "居住地登记错误")
			if err != nil {
				t.Fatal(err)
			}
			pfCode(t, "requester approves", db.DecideCorrection(ctx, w.lead, cid, true, "同意"), casework.EFORBIDDEN)
			pfCode(t, "worker approves", db.DecideCorrection(ctx, w.workerA, cid, true, "同意"), casework.EFORBIDDEN)
			pfCode(t, "office approves", db.DecideCorrection(ctx, w.office, cid, true, "同意"), casework.EFORBIDDEN)
			pfCode(t, "lead of another street approves", db.DecideCorrection(ctx, actorWith(casework.RoleLead, w.commB), cid, true, "同意"), casework.ENOTFOUND)
			if got := storetest.Must(db.GetPerson(ctx, w.lead, p.ID, "")); got.ResidenceAddr == addr {
				t.Fatal("correction applied before approval")
			}
			// A reason is capped free text, approving or not (issue 15 §7).
			pfField(t, "reject with a 100,000-character reason", db.DecideCorrection(ctx, w.lead2, cid, false, strings.Repeat("驳", 100000)), "reason")
			pfField(t, "approve with a bidi override in the reason", db.DecideCorrection(ctx, w.lead2, cid, true, "核实\u202e无误"), "reason")
			if err := db.DecideCorrection(ctx, w.lead2, cid, true, "核实无误"); err != nil {
				t.Fatal(err)
			}
			if got := storetest.Must(db.GetPerson(ctx, w.lead, p.ID, "")); got.ResidenceAddr != addr {
				t.Fatalf("approved correction not applied: %q", got.ResidenceAddr)
			}
			if recs := pfAudit(t, db, w, "person.correct", p.ID); len(recs) != 1 || recs[0].ActorID != w.lead2.UserID || recs[0].Reason != "核实无误" {
				t.Fatalf("person.correct audit rows %+v", recs)
			}
			pfCode(t, "decide twice", db.DecideCorrection(ctx, w.lead2, cid, true, "再次"), casework.ECONFLICT)

			emp := "不应写入"
			cid2 := storetest.Must(db.RequestCorrection(ctx, w.workerA, p.ID, store.PersonUpdate{Employment: &emp}, "就业情况"))
			pfField(t, "reject without reason", db.DecideCorrection(ctx, w.lead, cid2, false, ""), "reason")
			if err := db.DecideCorrection(ctx, w.lead, cid2, false, "无证明材料"); err != nil {
				t.Fatal(err)
			}
			if got := storetest.Must(db.GetPerson(ctx, w.lead, p.ID, "")); got.Employment == emp {
				t.Fatal("rejected correction applied")
			}
			cs := storetest.Must(db.ListCorrections(ctx, w.lead, p.ID))
			if len(cs) != 2 {
				t.Fatalf("corrections %+v", cs)
			}
		})
		t.Run("correction of a live file refused", func(t *testing.T) {
			q := storetest.Must(db.CreatePerson(ctx, w.workerA, pfPerson(w.commA, "陈四", pfID("19800101", 4, true)), nil))
			emp := "x"
			_, err := db.RequestCorrection(ctx, w.lead, q.ID, store.PersonUpdate{Employment: &emp}, "原因")
			pfCode(t, "correction of a file that is not archived", err, casework.ECONFLICT)
		})
	})
}

// 5. The report deadline: day 15 after receipt is on time, day 16 is late
// (R1, R2), counted on the calendar of the org's zone (Asia/Shanghai).
func TestReportDeadlineBoundaries(t *testing.T) {
	storetest.EachWithClock(t, time.Date(2021, 3, 1, 4, 0, 0, 0, time.UTC), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := pfBuild(t, db)
		received := pfD("2021-03-01") // D
		mk := func(name string, seq int) *casework.Person {
			return storetest.Must(db.CreatePerson(ctx, w.workerA, pfPerson(w.commA, name, pfID("19800101", seq, true)), pfTreatment(received)))
		}
		early, late := mk("周早", 1), mk("周晚", 2)
		if early.ReportDeadline != pfD("2021-03-16") {
			t.Fatalf("deadline %s, want D+15 = 2021-03-16", early.ReportDeadline)
		}
		soon := func(f store.PersonFilter) []string {
			f.DeadlineDays = 1
			names, _ := pfList(t, db, w.workerA, f)
			return names
		}
		for _, c := range []struct {
			at        time.Time
			today     string
			overdue   bool
			dueInADay bool
		}{
			{time.Date(2021, 3, 14, 15, 30, 0, 0, time.UTC), "2021-03-14", false, false}, // 23:30 on the 14th in Beijing
			{time.Date(2021, 3, 14, 16, 30, 0, 0, time.UTC), "2021-03-15", false, true},  // 00:30 on the 15th
			{time.Date(2021, 3, 16, 15, 30, 0, 0, time.UTC), "2021-03-16", false, true},  // D+15: still on time
			{time.Date(2021, 3, 16, 16, 30, 0, 0, time.UTC), "2021-03-17", true, true},   // D+16: overdue (R2)
		} {
			t.Run(c.at.Format(time.RFC3339), func(t *testing.T) {
				clock.T = c.at
				today := casework.DateOf(clock.Now(), pfBJ)
				if today != pfD(c.today) {
					t.Fatalf("local today %s, want %s", today, c.today)
				}
				if o := casework.DeemedRefusal(casework.StatusPendingReport, received, today); o != c.overdue {
					t.Fatalf("deemed refusal on %s: %v, want %v", today, o, c.overdue)
				}
				got := soon(store.PersonFilter{Today: today})
				if (len(got) == 2) != c.dueInADay {
					t.Fatalf("due within a day on %s: %v, want %v", today, got, c.dueInADay)
				}
				// Without Today the list counts from the local date of the clock.
				if got := soon(store.PersonFilter{}); (len(got) == 2) != c.dueInADay {
					t.Fatalf("due within a day, today from the clock (%s): %v, want %v", today, got, c.dueInADay)
				}
				rows := storetest.Must(db.GetPerson(ctx, w.workerA, early.ID, ""))
				if ov, _ := casework.ReportOverdue(rows.ReportDeadline.AddDays(-casework.ReportDeadlineDays), today); ov != c.overdue {
					t.Fatalf("row deadline %s overdue on %s: %v", rows.ReportDeadline, today, ov)
				}
			})
		}
		// A report at 23:30 Beijing time on D+15 is on the 15th day; one at
		// 00:30 is on the 16th, whatever the UTC date says.
		clock.T = time.Date(2021, 3, 16, 15, 30, 0, 0, time.UTC)
		m1 := storetest.Must(db.Transition(ctx, w.workerA, early.ID, store.TransitionInput{Action: casework.ActReportIn}))
		clock.T = time.Date(2021, 3, 16, 16, 30, 0, 0, time.UTC)
		m2 := storetest.Must(db.Transition(ctx, w.workerA, late.ID, store.TransitionInput{Action: casework.ActReportIn}))
		if m1.ReportDate != pfD("2021-03-16") || m2.ReportDate != pfD("2021-03-17") {
			t.Fatalf("report dates %s and %s, want 2021-03-16 and 2021-03-17", m1.ReportDate, m2.ReportDate)
		}
		if ov, _ := casework.ReportOverdue(received, m1.ReportDate); ov {
			t.Fatal("report on D+15 counted late")
		}
		if ov, n := casework.ReportOverdue(received, m2.ReportDate); !ov || n != 1 {
			t.Fatalf("report on D+16: overdue %v by %d", ov, n)
		}
		if m2.TermEnd != pfD("2024-03-17") {
			t.Fatalf("term end %s, want 2024-03-17", m2.TermEnd)
		}
		if got := soon(store.PersonFilter{}); len(got) != 0 {
			t.Fatalf("reported persons still due: %v", got)
		}
	})
}

// 6. Transfer of the place of execution (R11): both offices' access before,
// during and after.
func TestTransferAccess(t *testing.T) {
	storetest.EachWithClock(t, pfStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := pfBuild(t, db)
		mkOrg := func(parent *casework.Org, kind casework.OrgKind, name string) *casework.Org {
			return storetest.Must(db.CreateOrg(ctx, pfSys, casework.OrgInput{ParentID: parent.ID, Kind: kind, Name: name}))
		}
		county2 := mkOrg(w.city, casework.KindCounty, "吉阳区")
		street2 := mkOrg(county2, casework.KindTownship, "河东街道")
		commC := mkOrg(street2, casework.KindCommunity, "红沙社区")
		newOffice := pfStaff(t, db, "office-new", casework.RoleOffice, county2)
		newLead := pfStaff(t, db, "lead-new", casework.RoleLead, street2)
		newWorker := pfStaff(t, db, "worker-new", casework.RoleWorker, commC)

		p := storetest.Must(db.CreatePerson(ctx, w.workerA, pfPerson(w.commA, "孙一", pfID("19800101", 1, true)), pfReported(pfD("2021-06-01"), pfD("2021-06-05"))))
		termEnd := pfCurrent(t, db, w.lead, p.ID).TermEnd
		if termEnd != pfD("2024-06-05") {
			t.Fatalf("term end %s", termEnd)
		}
		readable := func(a *casework.Actor) (*casework.Person, error) { return db.GetPerson(ctx, a, p.ID, "") }

		// Before.
		for _, a := range []*casework.Actor{newOffice, newLead, newWorker} {
			_, err := readable(a)
			pfCode(t, "before: "+a.Username+" reads", err, casework.ENOTFOUND)
		}
		_, err := db.StartTransfer(ctx, w.lead, p.ID, commC.ID, "")
		pfField(t, "transfer without reason", err, "reason")
		_, err = db.StartTransfer(ctx, w.workerA, p.ID, commC.ID, "搬家")
		pfCode(t, "worker starts a transfer", err, casework.EFORBIDDEN)
		_, err = db.StartTransfer(ctx, newOffice, p.ID, commC.ID, "搬家")
		pfCode(t, "receiving office starts a transfer", err, casework.ENOTFOUND)

		// During: a refusal first.
		tf, err := db.StartTransfer(ctx, w.lead, p.ID, commC.ID, "本人迁居红沙社区")
		if err != nil {
			t.Fatal(err)
		}
		_, err = db.StartTransfer(ctx, w.office, p.ID, w.commB.ID, "另一个")
		pfCode(t, "second pending transfer", err, casework.ECONFLICT)
		for _, a := range []*casework.Actor{newOffice, newLead} {
			got, err := readable(a)
			if err != nil || !got.Access.Incoming || got.Access.Write || !got.Access.Sensitive {
				t.Fatalf("during: %s reads %v, access %+v", a.Username, err, got)
			}
			if got.IDMasked != pfMaskedID(pfID("19800101", 1, true)) {
				t.Fatalf("receiver does not see the whole file: %+v", got)
			}
		}
		if got, err := readable(w.lead); err != nil || got.Access.Incoming || !got.Access.Write {
			t.Fatalf("during: old lead %v %+v", err, got)
		}
		_, err = db.UpdatePerson(ctx, newLead, p.ID, store.PersonUpdate{Employment: ptr("x")})
		pfCode(t, "receiver writes before accepting", err, casework.EFORBIDDEN)
		_, err = db.DecideTransfer(ctx, newLead, tf.ID, store.TransferDecision{Accept: false})
		pfField(t, "refuse without reason", err, "reason")
		_, err = db.DecideTransfer(ctx, w.lead, tf.ID, store.TransferDecision{Accept: true})
		pfCode(t, "sender accepts its own transfer", err, casework.EFORBIDDEN)
		_, err = db.DecideTransfer(ctx, newWorker, tf.ID, store.TransferDecision{Accept: true})
		pfCode(t, "receiving worker accepts", err, casework.EFORBIDDEN)
		if tf, err = db.DecideTransfer(ctx, newLead, tf.ID, store.TransferDecision{Accept: false, Reason: "地址不实"}); err != nil || tf.State != "refused" {
			t.Fatalf("refuse: %v %+v", err, tf)
		}
		_, err = readable(newOffice)
		pfCode(t, "after refusal the receiver reads", err, casework.ENOTFOUND)

		// A transfer withdrawn by the sending side.
		tf = storetest.Must(db.StartTransfer(ctx, w.office, p.ID, w.commB.ID, "拟转海湾社区"))
		pfCode(t, "receiver cancels", db.CancelTransfer(ctx, newLead, tf.ID, "x"), casework.ENOTFOUND)
		if err := db.CancelTransfer(ctx, w.office, tf.ID, "撤回"); err != nil {
			t.Fatal(err)
		}
		pfCode(t, "cancel twice", db.CancelTransfer(ctx, w.office, tf.ID, "撤回"), casework.ECONFLICT)
		if tf = storetest.Must(db.GetTransfer(ctx, w.lead, tf.ID)); tf.State != "cancelled" {
			t.Fatalf("cancelled transfer: %+v", tf)
		}

		// Again, accepted.
		tf = storetest.Must(db.StartTransfer(ctx, w.lead, p.ID, commC.ID, "本人迁居红沙社区（复核）"))
		clock.T = time.Date(2021, 6, 20, 4, 0, 0, 0, time.UTC)
		_, err = db.DecideTransfer(ctx, newLead, tf.ID, store.TransferDecision{Accept: true, WorkerID: w.workerA.UserID})
		pfField(t, "old worker as the new responsible worker", err, "worker_id")
		tf, err = db.DecideTransfer(ctx, newLead, tf.ID, store.TransferDecision{Accept: true, WorkerID: newWorker.UserID, AgreementDate: pfD("2021-06-20")})
		if err != nil || tf.State != "accepted" {
			t.Fatalf("accept: %v %+v", err, tf)
		}
		_, err = db.DecideTransfer(ctx, newLead, tf.ID, store.TransferDecision{Accept: true})
		pfCode(t, "accept twice", err, casework.ECONFLICT)
		handover := clock.Now()
		clock.Add(time.Hour) // later changes are after the hand-over

		got, err := readable(newLead)
		if err != nil || got.OrgID != commC.ID || !got.Access.Write || got.Access.Incoming {
			t.Fatalf("after: new lead %v %+v", err, got)
		}
		if got.Status != casework.StatusPendingReport || got.ReportDeadline != pfD("2021-07-05") || got.TermEnd != termEnd || got.WorkerID != newWorker.UserID {
			t.Fatalf("after: status %s deadline %s (want 2021-07-05, R11) end %s (want %s) worker %s", got.Status, got.ReportDeadline, got.TermEnd, termEnd, got.WorkerID)
		}
		m := pfCurrent(t, db, newLead, p.ID)
		if m.PlaceOrgID != commC.ID || m.ReportDate != pfD("2021-06-05") || m.TermEnd != termEnd || m.AgreementDate != pfD("2021-06-20") {
			t.Fatalf("after: measure %+v", m)
		}
		if _, err := db.UpdatePerson(ctx, newWorker, p.ID, store.PersonUpdate{Employment: ptr("新单位")}); err != nil {
			t.Fatalf("new worker writes: %v", err)
		}
		_, err = db.UpdatePerson(ctx, newOffice, p.ID, store.PersonUpdate{Employment: ptr("x")})
		pfCode(t, "new office writes", err, casework.EFORBIDDEN)

		// The old side reads what happened until the hand-over, and nothing after.
		clock.T = time.Date(2021, 6, 22, 4, 0, 0, 0, time.UTC)
		m = storetest.Must(db.Transition(ctx, newWorker, p.ID, store.TransitionInput{Action: casework.ActReportIn}))
		if m.ReportDate != pfD("2021-06-05") || m.TermEnd != termEnd || m.Status != casework.StatusExecuting {
			t.Fatalf("report at the new place restarted the clock: report %s end %s", m.ReportDate, m.TermEnd)
		}
		for _, a := range []*casework.Actor{w.lead, w.office, w.workerA} {
			old, err := readable(a)
			if err != nil || old.Access.Write || old.Access.Until.IsZero() || old.Access.Until.After(handover) {
				t.Fatalf("after: old %s %v access %+v", a.Username, err, old)
			}
			// Nothing the new place records shows: not its status, worker or contact details.
			if old.Status != casework.StatusTransferredOut || old.WorkerID != "" || old.PhoneMasked != "" || old.ResidenceAddr != "" || old.OrgID != "" {
				t.Fatalf("after: old %s sees the new place's state: %+v", a.Username, old)
			}
			_, err = db.Reveal(ctx, a, p.ID, "phone", "核对")
			pfCode(t, "old "+a.Username+" reveals the phone", err, casework.EFORBIDDEN)
			_, err = db.UpdatePerson(ctx, a, p.ID, store.PersonUpdate{Employment: ptr("x")})
			pfCode(t, "old "+a.Username+" writes", err, casework.EFORBIDDEN)
			_, err = db.Transition(ctx, a, p.ID, store.TransitionInput{Action: casework.ActStartLeave, Reason: "x"})
			pfCode(t, "old "+a.Username+" transitions", err, casework.EFORBIDDEN)
			tl, _, err := db.ListTimeline(ctx, a, p.ID, 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			var kinds []string
			for _, e := range tl {
				kinds = append(kinds, e.Kind)
				if e.At.After(handover) {
					t.Fatalf("old %s sees an event after the hand-over: %+v", a.Username, e)
				}
			}
			if !slices.Contains(kinds, "transfer.started") || slices.Contains(kinds, "status.report_in") || slices.Contains(kinds, "person.updated") {
				t.Fatalf("old %s timeline %v", a.Username, kinds)
			}
			ms, err := db.ListMeasures(ctx, a, p.ID)
			if err != nil || len(ms) != 1 {
				t.Fatalf("old %s measures: %v", a.Username, err)
			}
			for _, e := range ms[0].Events {
				if e.Action == casework.ActReportIn && e.EffectiveDate == pfD("2021-06-22") {
					t.Fatalf("old %s sees the report at the new place", a.Username)
				}
			}
			// The printed dossier shows the same as the screen: the measure as handed over.
			d, err := db.LoadDossier(ctx, a, p.ID, store.DossierPrint)
			if err != nil || len(d.Measures) != 1 || d.Measures[0].Status != casework.StatusTransferredOut || d.Measures[0].WorkerID != "" || d.Measures[0].Group != nil || len(d.Orgs) != 0 {
				t.Fatalf("old %s dossier shows the new place's measure state: %v %+v", a.Username, err, d)
			}
		}
		tl, _, _ := db.ListTimeline(ctx, newLead, p.ID, 0, 100)
		if len(tl) == 0 || tl[0].Kind != "status.report_in" {
			t.Fatalf("new lead timeline newest %+v", tl)
		}
		// The old side's lists do not show the person any more.
		if names, _ := pfList(t, db, w.lead, store.PersonFilter{}); slices.Contains(names, "孙一") {
			t.Fatal("transferred person still in the old lead's list")
		}
		if names, _ := pfList(t, db, newLead, store.PersonFilter{}); !slices.Contains(names, "孙一") {
			t.Fatal("transferred person missing from the new lead's list")
		}
	})
}

// 7. Automatic release at expiry (R15), once, even when run concurrently.
func TestReleaseExpired(t *testing.T) {
	// 10 March 2024, noon in Beijing.
	storetest.EachWithClock(t, time.Date(2024, 3, 10, 4, 0, 0, 0, time.UTC), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := pfBuild(t, db)
		mk := func(name string, seq int, report string) *casework.Person {
			r := pfD(report)
			return storetest.Must(db.CreatePerson(ctx, w.workerA, pfPerson(w.commA, name, pfID("19800101", seq, true)), pfReported(r.AddDays(-3), r)))
		}
		ended := mk("吴昨", 1, "2021-03-09")     // term ended yesterday
		suspended := mk("吴中", 2, "2021-03-08") // term ended while suspended
		tomorrow := mk("吴明", 3, "2021-03-11")  // ends tomorrow
		suspLate := mk("吴迟", 4, "2021-03-05")  // suspended after its end, before the job ran
		terminated := mk("吴终", 5, "2021-03-01")
		if _, err := db.Transition(ctx, w.workerA, terminated.ID, store.TransitionInput{Action: casework.ActTerminate, EffectiveDate: pfD("2024-03-01"), Reason: "强制隔离戒毒"}); err != nil {
			t.Fatal(err)
		}
		storetest.Must(db.Transition(ctx, w.workerA, suspended.ID, store.TransitionInput{Action: casework.ActSuspend, EffectiveDate: pfD("2024-03-01"), Reason: "被拘留"}))
		storetest.Must(db.Transition(ctx, w.workerA, suspLate.ID, store.TransitionInput{Action: casework.ActSuspend, EffectiveDate: pfD("2024-03-07"), Reason: "被拘留"}))

		n, err := db.ReleaseExpired(ctx)
		if err != nil || n != 3 {
			t.Fatalf("first run released %d, %v; want 3", n, err)
		}
		for _, c := range []struct {
			p      *casework.Person
			status casework.Status
			ended  string
		}{
			{ended, casework.StatusReleased, "2024-03-09"},
			// Default policy: the clock runs on during a suspension (R13
			// UNCONFIRMED), so a suspended person is released at the end
			// date like any other.
			{suspended, casework.StatusReleased, "2024-03-08"},
			// Suspended on 7 March after the term ran out on 5 March (the job
			// had not run): released, effective on the day of the suspension,
			// the earliest date the status machine allows.
			{suspLate, casework.StatusReleased, "2024-03-07"},
			{tomorrow, casework.StatusExecuting, ""},
			{terminated, casework.StatusTerminated, "2024-03-01"},
		} {
			m := pfCurrent(t, db, w.lead, c.p.ID)
			if m.Status != c.status || m.EndedOn.String() != c.ended {
				t.Fatalf("%s: %s ended %q, want %s %q", c.p.Name, m.Status, m.EndedOn, c.status, c.ended)
			}
			if c.status == casework.StatusReleased {
				if m.InForce || m.NoRelapseOn != m.EndedOn.AddYears(3) || len(m.Events) == 0 || m.Events[len(m.Events)-1].Action != casework.ActRelease {
					t.Fatalf("%s: in force %v no-relapse %s", c.p.Name, m.InForce, m.NoRelapseOn)
				}
				if recs := pfAudit(t, db, w, "measure.release", c.p.ID); len(recs) != 1 {
					t.Fatalf("%s: %d release audit rows", c.p.Name, len(recs))
				}
			}
		}
		if n, err := db.ReleaseExpired(ctx); err != nil || n != 0 {
			t.Fatalf("second run released %d, %v", n, err)
		}

		// Concurrently, on a new expiry: one release in all.
		clock.T = time.Date(2024, 3, 10, 15, 30, 0, 0, time.UTC) // 23:30 on the 10th in Beijing
		if n, err := db.ReleaseExpired(ctx); err != nil || n != 0 {
			t.Fatalf("the day before the end: released %d, %v", n, err)
		}
		clock.T = time.Date(2024, 3, 10, 16, 30, 0, 0, time.UTC) // 00:30 on the 11th in Beijing
		var wg sync.WaitGroup
		counts := make([]int, 4)
		errs := make([]error, 4)
		for i := range counts {
			wg.Go(func() { counts[i], errs[i] = db.ReleaseExpired(ctx) })
		}
		wg.Wait()
		total := 0
		for i := range counts {
			if errs[i] != nil {
				t.Fatalf("concurrent run %d: %v", i, errs[i])
			}
			total += counts[i]
		}
		if total != 1 {
			t.Fatalf("concurrent runs released %v, want 1 in all", counts)
		}
		m := pfCurrent(t, db, w.lead, tomorrow.ID)
		if m.Status != casework.StatusReleased || m.EndedOn != pfD("2024-03-11") {
			t.Fatalf("ends-tomorrow person: %s %s", m.Status, m.EndedOn)
		}
		if recs := pfAudit(t, db, w, "measure.release", tomorrow.ID); len(recs) != 1 {
			t.Fatalf("%d release audit rows after concurrent runs", len(recs))
		}
		if names, _ := pfList(t, db, w.lead, store.PersonFilter{}); len(names) != 0 {
			t.Fatalf("released and terminated persons in the routine list: %v", names)
		}
	})
}
