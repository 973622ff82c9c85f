package store_test

import (
	"fmt"
	"testing"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// Issue 11 §8: a visit import checks every row first and reports every
// fault by row and column; nothing is written unless all rows are good; a
// dry run writes nothing; importing the same rows again changes nothing.
func TestImportVisits(t *testing.T) {
	storetest.EachWithClock(t, visitStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := pfBuild(t, db)
		id := pfID("19900101", 1, true)
		p := storetest.Must(db.CreatePerson(ctx, w.workerA, pfPerson(w.commA, "张三", id), pfReported(pfD("2026-01-05"), pfD("2026-01-06"))))
		otherID := pfID("19910101", 2, true)
		storetest.Must(db.CreatePerson(ctx, w.workerB, pfPerson(w.commB, "李四", otherID), nil))
		good := store.VisitImportRow{Row: 2, IDNumber: id, Name: "张三", Kind: "入户走访", Date: "2026-03-02", Time: "09:30", Condition: "稳定",
			Participants: "家属:母亲、工作人员:李专干", Notes: "本人在家", FollowUp: "联系就业", FollowUpDue: "2026-03-20"}
		call := store.VisitImportRow{Row: 3, IDNumber: id, Kind: "电话", State: "未接通", Date: "2026-03-03"}
		bad := []store.VisitImportRow{
			good, call,
			{Row: 4, IDNumber: otherID, Kind: "电话", Date: "2026-03-02", Condition: "稳定"},            // another community's file
			{Row: 5, IDNumber: id, Kind: "信件", Date: "2026-03-02", Condition: "稳定"},                 // no such kind
			{Row: 6, IDNumber: id, Kind: "入户", Date: "2026-04-02", Condition: "稳定"},                 // in the future
			{Row: 7, IDNumber: id, Kind: "入户", Date: "2026-03-02", Condition: "稳定", FollowUp: "回访"}, // follow-up without due
			{Row: 8, IDNumber: id, Name: "王五", Kind: "入户", Date: "2026-03-02", Condition: "稳定"},     // name of another file
			{Row: 9, IDNumber: id, Kind: "入户", Date: "2026-03-02", Time: "25:00", Condition: "稳定"},  // no such time
			{Row: 10, IDNumber: id, Kind: "电话", State: "未接通", Date: "2026-03-03"},                   // same as row 3
			{Row: 11, IDNumber: id, Kind: "入户", Date: "2026-03-04"},                                 // done without a condition
		}
		rep := storetest.Must(db.ImportVisits(ctx, w.workerA, bad, false))
		want := map[string]bool{"4/id_number": true, "5/kind": true, "6/date": true, "7/follow_up_due": true, "8/name": true, "9/time": true,
			"10/": true, "11/condition": true}
		got := map[string]bool{}
		for _, e := range rep.Errors {
			got[fmt.Sprintf("%d/%s", e.Row, e.Column)] = true
			if e.ZH == "" || e.EN == "" {
				t.Errorf("row %d %s: no reason", e.Row, e.Column)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("faults %v\nwant %v", got, want)
		}
		if rep.Written || len(storetest.Must(db.ListVisits(ctx, w.workerA, p.ID))) != 0 {
			t.Fatal("a bad file wrote visits")
		}
		dry := storetest.Must(db.ImportVisits(ctx, w.workerA, []store.VisitImportRow{good, call}, true))
		if dry.Written || dry.Created != 2 || len(dry.Errors) != 0 || len(storetest.Must(db.ListVisits(ctx, w.workerA, p.ID))) != 0 {
			t.Fatalf("dry run: %+v", dry)
		}
		done := storetest.Must(db.ImportVisits(ctx, w.workerA, []store.VisitImportRow{good, call}, false))
		vs := storetest.Must(db.ListVisits(ctx, w.workerA, p.ID))
		if !done.Written || done.Created != 2 || len(vs) != 2 {
			t.Fatalf("import: %+v, %d visits", done, len(vs))
		}
		for _, v := range vs {
			if v.Kind == casework.VisitHome && (len(v.Participants) != 2 || v.Participants[0].Role != "family" || len(v.FollowUps) != 1 ||
				v.At.Format("15:04") != "01:30" || v.Source != "import") {
				t.Errorf("imported home visit: %+v", v)
			}
			if v.Kind == casework.VisitPhone && v.State != casework.VisitAttempt {
				t.Errorf("imported call: %s", v.State)
			}
		}
		again := storetest.Must(db.ImportVisits(ctx, w.workerA, []store.VisitImportRow{good, call}, false))
		if again.Created != 0 || again.Unchanged != 2 || len(storetest.Must(db.ListVisits(ctx, w.workerA, p.ID))) != 2 {
			t.Errorf("second import: %+v", again)
		}
		_, err := db.ImportVisits(ctx, w.police, []store.VisitImportRow{good}, true)
		pfCode(t, "police import", err, casework.EFORBIDDEN)
	})
}
