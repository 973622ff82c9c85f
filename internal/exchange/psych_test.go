package exchange_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"kangfu/internal/casework"
	"kangfu/internal/exchange"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// Issue 11 §8: sessions kept on paper are imported from the template;
// every row is checked first and every fault reported by row and column;
// nothing is written unless all rows are good; importing the same file
// again adds nothing; the export has names, never notes, and is audited.
func TestSessionImportExport(t *testing.T) {
	storetest.EachWithClock(t, start, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := build(t, db)
		sys := casework.SystemActor("test")
		for i, name := range []string{"林一", "林二"} {
			storetest.Must(db.CreatePerson(ctx, sys, casework.PersonInput{OrgID: w.comm.ID, Name: name, IDNumber: idNumber(i + 1)}, nil))
		}
		head := []any{"身份证号", "咨询时间", "时长（分钟）", "方式", "咨询师", "咨询记录"}
		bad := workbook(t, "个体咨询", [][]any{head,
			{idNumber(1), "2021-06-01 10:00", "50", "面谈", "赵老师", "首次访谈"},
			{idNumber(2), "2021-06-02 10:00", "50", "传真", "赵老师", ""},
			{idNumber(99), "2021-06-03 10:00", "50", "电话", "赵老师", ""},
			{idNumber(2), "2021-06-04 10:00", "半小时", "电话", "赵老师", ""},
		})
		rows, err := exchange.ReadSessionImport(bytes.NewReader(bad), "individual")
		if err != nil {
			t.Fatal(err)
		}
		rep, err := db.ImportSessions(ctx, w.lead, "individual", rows, false)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range exchange.SessionErrors(rep, "zh") {
			got = append(got, strings.Join([]string{string(rune('0' + e.Row)), e.ColumnKey}, ":"))
		}
		if strings.Join(got, " ") != "3:mode 4:id_number 5:minutes" || rep.Written {
			t.Fatalf("faults %v written %v", got, rep.Written)
		}
		if ss := storetest.Must(db.ListCounsellingSessions(ctx, sys, store.SessionFilter{Limit: 100})); len(ss) != 0 {
			t.Fatalf("a file with faults wrote %d sessions", len(ss))
		}
		good := workbook(t, "个体咨询", [][]any{head,
			{idNumber(1), "2021-06-01 10:00", "50", "面谈", "赵老师", "首次访谈：家庭关系紧张"},
			{idNumber(2), "2021-06-02 10:00", "40", "电话", "赵老师", ""},
		})
		for i, want := range []struct{ created, unchanged int }{{2, 0}, {0, 2}} {
			rows, err := exchange.ReadSessionImport(bytes.NewReader(good), "individual")
			if err != nil {
				t.Fatal(err)
			}
			rep, err := db.ImportSessions(ctx, w.lead, "individual", rows, false)
			if err != nil || len(rep.Errors) > 0 || rep.Created != want.created || rep.Unchanged != want.unchanged {
				t.Fatalf("import %d: %+v %v", i+1, rep, err)
			}
		}
		_, err = db.ImportSessions(ctx, w.counsellor, "individual", rows, false)
		if !casework.IsCode(err, casework.EFORBIDDEN) {
			t.Fatalf("a counsellor imports: %v", err)
		}
		group := workbook(t, "团体辅导", [][]any{{"日期", "举办单位", "主题", "主持人", "地点", "参加人员身份证号", "其他参与人数"},
			{"2021-06-10", "460203001001", "情绪管理", "赵老师", "活动室", idNumber(1) + "、" + idNumber(2), "8"}})
		rows, err = exchange.ReadSessionImport(bytes.NewReader(group), "group")
		if err != nil {
			t.Fatal(err)
		}
		if rep, err := db.ImportSessions(ctx, w.lead, "group", rows, false); err != nil || rep.Created != 1 || !rep.Written {
			t.Fatalf("group import %+v %v", rep, err)
		}
		gs, _, err := db.ListGroupSessions(ctx, sys, store.GroupFilter{})
		if err != nil || len(gs) != 1 || len(gs[0].Attendees) != 2 || gs[0].OthersReached != 8 {
			t.Fatalf("group %+v", gs)
		}
		var out bytes.Buffer
		n, err := exchange.ExportSessions(ctx, db, w.lead, "individual", "zh", &out)
		if err != nil || n != 2 {
			t.Fatalf("export %d %v", n, err)
		}
		f := storetest.Must(excelize.OpenReader(&out))
		cells := storetest.Must(f.GetRows(f.GetSheetList()[0]))
		text := ""
		for _, r := range cells {
			text += strings.Join(r, "|") + "\n"
		}
		if !strings.Contains(text, "林一") || strings.Contains(text, "家庭关系") || strings.Contains(text, idNumber(1)) {
			t.Fatalf("export:\n%s", text)
		}
		recs, _, err := db.ListAudit(ctx, casework.SystemActor("test"), store.AuditFilter{Action: "psych.export", Limit: 10})
		if err != nil || len(recs) != 1 {
			t.Fatalf("export audit %d %v", len(recs), err)
		}
	})
}
