package store_test

// Inbox sources of issue 10: R10 (a refusal's police report stays a task
// until recorded, whatever the violation's review state) and R7 (an
// incomplete working group is a task until the worker, the community
// police and a family member or guardian are in it, or a reason is given).

import (
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

func tasksOf(t *testing.T, db *store.DB, actor *casework.Actor, kind, personID string) []store.Task {
	t.Helper()
	ts, err := db.Inbox(ctx, actor)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.Task
	for _, x := range ts {
		if x.Kind == kind && x.PersonID == personID {
			out = append(out, x)
		}
	}
	return out
}

func TestR10RefusalPoliceReportStaysATask(t *testing.T) {
	storetest.EachWithClock(t, vClock(), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := vBuild(t, db, clock)
		w.days(0, 12, false)
		clock.T = at(vStart.AddDays(10), 10, 0)
		refuse := func(day int) {
			t.Helper()
			storetest.Must(db.RecordTest(ctx, w.police, w.person.ID, casework.DrugTestInput{TestedOn: vStart.AddDays(day), Place: "椰林派出所",
				Sample: "urine", Outcome: casework.OutcomeRefused, StaffIDs: []string{w.police.UserID, w.worker.UserID}}))
		}
		refuse(9)
		refuse(10)
		w.night(11)
		refs := w.violations(casework.ViolationRefusedTest)
		if len(refs) != 2 {
			t.Fatalf("refusals: %+v", refs)
		}
		clock.T = at(vStart.AddDays(10), 12, 0) // day 10 local: the day-10 refusal is due today, the day-9 one overdue
		ts := tasksOf(t, db, w.lead, "police_report", w.person.ID)
		if len(ts) != 2 || ts[0].Rule != "R10" || !ts[0].Overdue || ts[1].Overdue {
			t.Fatalf("R10: two refusals to report, the older overdue: %+v", ts)
		}
		// Confirming the violation does not make the duty go away (it did).
		storetest.Must(db.ReviewViolation(ctx, w.lead, refs[0].ID, casework.ViolationReview{Action: casework.ActConfirm, Reason: "无正当理由"}))
		if ts := tasksOf(t, db, w.lead, "police_report", w.person.ID); len(ts) != 2 {
			t.Fatalf("R10: the confirmed refusal's report left the inbox: %+v", ts)
		}
		// An excused refusal needs no report.
		storetest.Must(db.ReviewViolation(ctx, w.lead, refs[1].ID, casework.ViolationReview{Action: casework.ActExcuse, Reason: "住院，有诊断证明"}))
		// The report, with its recipient, ends the task.
		storetest.Must(db.AddLadderStep(ctx, w.lead, refs[0].ID, casework.LadderInput{Step: casework.StepPolice, Reason: "拒绝检测",
			Recipient: "椰林派出所 张警官"}, nil))
		if ts := tasksOf(t, db, w.lead, "police_report", w.person.ID); len(ts) != 0 {
			t.Fatalf("R10: reported or excused, still tasks: %+v", ts)
		}
		// A worker outside the street sees nothing of it; the police do not
		// get the township's task.
		if ts := tasksOf(t, db, w.police, "police_report", w.person.ID); len(ts) != 0 {
			t.Fatalf("police see the township's task: %+v", ts)
		}
	})
}

// R10: a positive test's report is the serious case's task, not a second one.
func TestR10PositiveReportIsTheCase(t *testing.T) {
	storetest.EachWithClock(t, vClock(), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := vBuild(t, db, clock)
		w.days(0, 12, false)
		clock.T = at(vStart.AddDays(10), 10, 0)
		storetest.Must(db.RecordTest(ctx, w.police, w.person.ID, casework.DrugTestInput{TestedOn: vStart.AddDays(10), Place: "椰林派出所",
			Sample: "urine", Outcome: casework.OutcomePositive, Substances: []string{"吗啡"}, Positive: []string{"吗啡"},
			SampleA: "A1", SampleB: "B1", SealNo: "S1", StaffIDs: []string{w.police.UserID, w.worker.UserID}}))
		w.night(11)
		if ts := tasksOf(t, db, w.lead, "police_report", w.person.ID); len(ts) != 0 {
			t.Fatalf("a positive with its case: no second task, got %+v", ts)
		}
		if ts := tasksOf(t, db, w.lead, "case_report", w.person.ID); len(ts) != 1 {
			t.Fatalf("the case to report: %+v", ts)
		}
	})
}

func TestR7WorkingGroupGapIsATask(t *testing.T) {
	storetest.EachWithClock(t, time.Date(2026, 3, 10, 2, 0, 0, 0, time.UTC), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := ciBuild(t, db, pfD("2026-03-01"))
		ts := tasksOf(t, db, w.lead, "working_group", w.person.ID)
		if len(ts) != 1 || ts[0].Rule != "R7" || !ts[0].Overdue || ts[0].Due != pfD("2026-03-01") {
			t.Fatalf("R7: an empty group is a task: %+v", ts)
		}
		if got := ts[0].Title("zh"); got != "王小明 的工作小组不完整，缺少：专职工作人员、社区民警、家庭成员" {
			t.Fatalf("title: %s", got)
		}
		if ts := tasksOf(t, db, w.worker, "working_group", w.person.ID); len(ts) != 1 {
			t.Fatalf("the responsible worker's task: %+v", ts)
		}
		add := func(role, name string) {
			t.Helper()
			if err := db.AddGroupMember(ctx, w.worker, w.person.ID, store.GroupMember{Role: role, Name: name}); err != nil {
				t.Fatal(err)
			}
		}
		add("worker", "李专干")
		add("police", "张警官")
		add("volunteer", "志愿者甲")
		ts = tasksOf(t, db, w.lead, "working_group", w.person.ID)
		if len(ts) != 1 || ts[0].Title("en") != "王小明: working group incomplete, missing: family member" {
			t.Fatalf("R7: family still missing: %+v", ts)
		}
		// A recorded reason stands for the family member; clearing it brings the task back.
		reason := "父母均已去世，无其他近亲属"
		storetest.Must(db.UpdateMeasure(ctx, w.worker, w.person.ID, store.MeasureUpdate{GroupFamilyReason: &reason}))
		if ts := tasksOf(t, db, w.lead, "working_group", w.person.ID); len(ts) != 0 {
			t.Fatalf("R7: with a reason: %+v", ts)
		}
		m := pfCurrent(t, db, w.lead, w.person.ID)
		if m.GroupFamilyReason != reason || len(casework.GroupGaps([]string{"worker", "police"}, m.GroupFamilyReason)) != 0 {
			t.Fatalf("reason: %q", m.GroupFamilyReason)
		}
		empty := ""
		storetest.Must(db.UpdateMeasure(ctx, w.worker, w.person.ID, store.MeasureUpdate{GroupFamilyReason: &empty}))
		if ts := tasksOf(t, db, w.lead, "working_group", w.person.ID); len(ts) != 1 {
			t.Fatalf("R7: reason cleared: %+v", ts)
		}
		add(casework.GroupRoleGuardian, "王监护")
		if ts := tasksOf(t, db, w.lead, "working_group", w.person.ID); len(ts) != 0 {
			t.Fatalf("R7: a guardian counts as family: %+v", ts)
		}
		long := string(make([]rune, 201))
		_, err := db.UpdateMeasure(ctx, w.worker, w.person.ID, store.MeasureUpdate{GroupFamilyReason: &long})
		pfField(t, "a long reason", err, "group_family_reason")
	})
}
