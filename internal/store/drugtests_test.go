package store_test

import (
	"slices"
	"strings"
	"testing"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// dtWorld is leaveWorld with a female person in community A and a female
// worker account there.
type dtWorld struct {
	leaveWorld
	woman       *casework.Person
	femaleStaff string
	otherPolice *casework.Actor
}

func newDTWorld(t *testing.T, db *store.DB) dtWorld {
	t.Helper()
	w := dtWorld{leaveWorld: newLeaveWorld(t, db)}
	w.woman = storetest.Must(db.CreatePerson(ctx, w.workerA, pfPerson(w.commA, "李梅", pfID("19920202", 3, false)),
		pfReported(pfD("2026-01-05"), pfD("2026-01-06"))))
	u := storetest.Must(db.CreateUser(ctx, pfSys, casework.UserInput{Username: "worker-f", DisplayName: "王芳", Sex: "F", OrgID: w.commA.ID,
		Password: "long-enough-pw"}, "x", false))
	storetest.Must(db.GrantRole(ctx, pfSys, u.ID, casework.RoleWorker, w.commA.ID))
	w.femaleStaff = u.ID
	ws := w.otherLead.Grants[0]
	w.otherPolice = pfStaff(t, db, "police-other", casework.RolePolice, &casework.Org{ID: ws.OrgID})
	return w
}

func dtNegative(w dtWorld) casework.DrugTestInput {
	return casework.DrugTestInput{TestedOn: pfD("2026-03-09"), Place: "天涯社区警务室", Sample: "urine",
		Substances: []string{"吗啡", "甲基苯丙胺"}, Outcome: casework.OutcomeNegative,
		StaffIDs: []string{w.police.UserID, w.workerA.UserID}}
}

// R18–R21: the rules a record must meet, on both engines.
func TestRecordTestRules(t *testing.T) {
	storetest.EachWithClock(t, leaveStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newDTWorld(t, db)
		for _, c := range []struct {
			name   string
			person func() string
			edit   func(*casework.DrugTestInput)
			field  string // "" = accepted
		}{
			{"negative with two staff", func() string { return w.person.ID }, func(*casework.DrugTestInput) {}, ""},
			{"one staff only (R18)", func() string { return w.person.ID }, func(in *casework.DrugTestInput) { in.StaffIDs = in.StaffIDs[:1] }, "staff_ids"},
			{"same staff twice (R18)", func() string { return w.person.ID }, func(in *casework.DrugTestInput) { in.StaffIDs = []string{w.police.UserID, w.police.UserID} }, "staff_ids"},
			{"unknown staff account", func() string { return w.person.ID }, func(in *casework.DrugTestInput) { in.StaffIDs[1] = "no-such-user" }, "staff_ids"},
			{"female subject, male collectors (R18)", func() string { return w.woman.ID }, func(*casework.DrugTestInput) {}, "staff_ids"},
			{"female subject, a female collector (R18)", func() string { return w.woman.ID }, func(in *casework.DrugTestInput) { in.StaffIDs[1] = w.femaleStaff }, ""},
			{"sample type not allowed (R20)", func() string { return w.person.ID }, func(in *casework.DrugTestInput) { in.Sample = "sweat" }, "sample"},
			{"positive without A/B and seal (R18)", func() string { return w.person.ID }, func(in *casework.DrugTestInput) {
				in.Outcome, in.Positive = casework.OutcomePositive, []string{"吗啡"}
			}, "sample_a"},
			{"positive with only A (R18)", func() string { return w.person.ID }, func(in *casework.DrugTestInput) {
				in.Outcome, in.Positive, in.SampleA, in.SealNo = casework.OutcomePositive, []string{"吗啡"}, "A-001", "F-9"
			}, "sample_a"},
			{"positive with A/B and seal (R18)", func() string { return w.person.ID }, func(in *casework.DrugTestInput) {
				in.Outcome, in.Positive, in.SampleA, in.SampleB, in.SealNo = casework.OutcomePositive, []string{"吗啡"}, "A-001", "B-001", "F-9"
			}, ""},
			{"positive substance not tested", func() string { return w.person.ID }, func(in *casework.DrugTestInput) {
				in.Outcome, in.Positive, in.SampleA, in.SampleB, in.SealNo = casework.OutcomePositive, []string{"氯胺酮"}, "A-1", "B-1", "F-1"
			}, "positive"},
			{"forced without approver (R21)", func() string { return w.person.ID }, func(in *casework.DrugTestInput) { in.Forced = true }, "approver_name"},
			{"forced with approver (R21)", func() string { return w.person.ID }, func(in *casework.DrugTestInput) {
				in.Forced, in.ApproverName, in.ApproverTitle = true, "赵强", "天涯派出所所长"
			}, ""},
			{"refusal (R21)", func() string { return w.person.ID }, func(in *casework.DrugTestInput) {
				in.Outcome, in.Substances = casework.OutcomeRefused, nil
			}, ""},
			{"future date", func() string { return w.person.ID }, func(in *casework.DrugTestInput) { in.TestedOn = pfD("2026-03-11") }, "tested_on"},
			{"remote without institution", func() string { return w.person.ID }, func(in *casework.DrugTestInput) { in.Remote, in.StaffIDs = true, nil }, "remote_institution"},
			{"remote report", func() string { return w.person.ID }, func(in *casework.DrugTestInput) {
				in.Remote, in.StaffIDs, in.RemoteInstitution = true, nil, "广州市天河区强制隔离戒毒所"
			}, ""},
			{"remote with unknown document", func() string { return w.person.ID }, func(in *casework.DrugTestInput) {
				in.Remote, in.StaffIDs, in.RemoteInstitution, in.RemoteDocumentID = true, nil, "广州市戒毒所", "nope"
			}, "remote_document_id"},
		} {
			t.Run(c.name, func(t *testing.T) {
				before := len(storetest.Must(db.ListTests(ctx, w.lead, c.person())))
				in := dtNegative(w)
				c.edit(&in)
				got, err := db.RecordTest(ctx, w.workerA, c.person(), in)
				after := len(storetest.Must(db.ListTests(ctx, w.lead, c.person())))
				if c.field != "" {
					pfField(t, c.name, err, c.field)
					if after != before {
						t.Fatalf("a refused record was stored")
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if after != before+1 || got.Outcome != in.Outcome || got.Sample != in.Sample || got.Forced != in.Forced {
					t.Fatalf("stored %+v (count %d → %d)", got, before, after)
				}
				if in.Outcome == casework.OutcomePositive && (got.SampleA != "A-001" || got.SampleB != "B-001" || got.SealNo != "F-9" || !slices.Equal(got.Positive, []string{"吗啡"})) {
					t.Errorf("positive detail lost: %+v", got)
				}
				if in.Forced && (got.ApproverName != "赵强" || got.ApproverTitle != "天涯派出所所长") {
					t.Errorf("approver lost: %+v", got)
				}
				if !in.Remote && len(got.Staff) != 2 {
					t.Errorf("staff %+v", got.Staff)
				}
			})
		}
		// The timeline notes the record but not its result (R36: a
		// counsellor in the working group reads the timeline).
		es, _, err := db.ListTimeline(ctx, w.lead, w.person.ID, 0, 200)
		if err != nil {
			t.Fatal(err)
		}
		found := 0
		for _, e := range es {
			if e.Kind == "drugtest.recorded" {
				found++
				if strings.Contains(e.Data, "positive") || strings.Contains(e.Data, "outcome") || strings.Contains(e.Data, "吗啡") {
					t.Errorf("timeline entry shows the result: %s", e.Data)
				}
			}
		}
		if found == 0 {
			t.Error("timeline has no drugtest.recorded")
		}
		if recs := pfAudit(t, db, w.pfWorld, "drugtest.record", w.person.ID); len(recs) == 0 {
			t.Error("no drugtest.record audit row")
		}
	})
}

// R19: the lab-test and retest request deadlines are 3 days from the day
// the result is notified (by default the test day).
func TestRecordTestDeadlinesR19(t *testing.T) {
	storetest.EachWithClock(t, leaveStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newDTWorld(t, db)
		for _, c := range []struct {
			name, tested, notified, want string
		}{
			{"notified on the day", "2026-03-09", "", "2026-03-12"},
			{"notified later", "2026-02-27", "2026-03-01", "2026-03-04"},
			{"across a month end", "2026-02-26", "", "2026-03-01"},
		} {
			t.Run(c.name, func(t *testing.T) {
				in := dtNegative(w)
				in.TestedOn = pfD(c.tested)
				if c.notified != "" {
					in.NotifiedOn = pfD(c.notified)
				}
				got := storetest.Must(db.RecordTest(ctx, w.police, w.person.ID, in))
				if got.LabRequestBy.String() != c.want || got.RetestRequestBy.String() != c.want {
					t.Errorf("lab %s retest %s, want %s", got.LabRequestBy, got.RetestRequestBy, c.want)
				}
			})
		}
		in := dtNegative(w)
		in.NotifiedOn = pfD("2026-03-01")
		_, err := db.RecordTest(ctx, w.police, w.person.ID, in)
		pfField(t, "notified before the test", err, "notified_on")
	})
}

// R36: who records and who reads test results.
func TestRecordTestAccess(t *testing.T) {
	storetest.EachWithClock(t, leaveStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newDTWorld(t, db)
		storetest.Must(db.RecordTest(ctx, w.workerA, w.person.ID, dtNegative(w)))
		if err := db.AddGroupMember(ctx, w.workerA, w.person.ID, store.GroupMember{Role: "medical", UserID: w.counsellor.UserID}); err != nil {
			t.Fatal(err)
		}
		// Staff who may be chosen as present: those covering the place.
		staff := storetest.Must(db.TestStaff(ctx, w.police, w.person.ID))
		var ids []string
		for _, c := range staff {
			ids = append(ids, c.ID)
			if c.ID == w.femaleStaff && c.Sex != "F" {
				t.Errorf("female staff listed as %q", c.Sex)
			}
		}
		for _, want := range []string{w.police.UserID, w.workerA.UserID, w.lead.UserID, w.femaleStaff} {
			if !slices.Contains(ids, want) {
				t.Errorf("TestStaff lacks %s: %v", want, ids)
			}
		}
		if slices.Contains(ids, w.workerB.UserID) || slices.Contains(ids, w.otherLead.UserID) || slices.Contains(ids, w.admin.UserID) {
			t.Errorf("TestStaff lists staff who do not cover the place: %v", ids)
		}
		_, err := db.TestStaff(ctx, w.counsellor, w.person.ID)
		pfCode(t, "counsellor lists staff", err, casework.EFORBIDDEN)
		for _, c := range []struct {
			name         string
			actor        *casework.Actor
			record, read string // "" = allowed, else the error code
		}{
			{"worker of the caseload", w.workerA, "", ""},
			{"lead of the street", w.lead, "", ""},
			{"police of the street, no write access", w.police, "", ""},
			{"another worker of the community", w.workerA2, casework.EFORBIDDEN, ""},
			{"office reads only", w.office, casework.EFORBIDDEN, ""},
			{"counsellor in the group", w.counsellor, casework.EFORBIDDEN, casework.EFORBIDDEN},
			{"police of another street", w.otherPolice, casework.ENOTFOUND, casework.ENOTFOUND},
			{"lead of another street", w.otherLead, casework.ENOTFOUND, casework.ENOTFOUND},
			{"admin", w.admin, casework.ENOTFOUND, casework.ENOTFOUND},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := db.RecordTest(ctx, c.actor, w.person.ID, dtNegative(w))
				if c.record == "" && err != nil {
					t.Fatalf("record: %v", err)
				} else if c.record != "" {
					pfCode(t, "record", err, c.record)
				}
				if err := db.CanRecordTest(ctx, c.actor, w.person.ID); (c.record == "" && err != nil) || (c.record != "" && !casework.IsCode(err, c.record)) {
					t.Errorf("CanRecordTest: %v, want %q", err, c.record)
				}
				list, err := db.ListTests(ctx, c.actor, w.person.ID)
				if c.read == "" {
					if err != nil || len(list) == 0 || list[0].Outcome != casework.OutcomeNegative {
						t.Fatalf("read: %v %+v", err, list)
					}
				} else {
					pfCode(t, "read", err, c.read)
				}
			})
		}
	})
}
