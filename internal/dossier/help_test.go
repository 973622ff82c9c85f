package dossier_test

import (
	"strings"
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// The help plan is generated as a document in the file (issue 11 §4): its
// needs, goals with actions and deadlines, and reviews; without a plan
// there is nothing to generate.
func TestGenerateHelpPlan(t *testing.T) {
	storetest.EachWithClock(t, time.Date(2026, 5, 10, 2, 0, 0, 0, time.UTC), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := build(t, db)
		_, err := w.svc.Generate(ctx, w.lead, w.person.ID, "help_plan")
		if !casework.IsCode(err, casework.ECONFLICT) {
			t.Fatalf("without a plan: %v, want conflict", err)
		}
		day := casework.MustParseDate("2026-05-10")
		storetest.Must(db.SaveHelpPlan(ctx, w.lead, w.person.ID, casework.HelpPlanInput{Needs: "家庭经济困难", NextReview: day.AddDays(30),
			Goals: []casework.HelpGoal{{Goal: "稳定就业", Actions: "推荐厂区岗位", Due: day.AddDays(60), Owner: "陈专干"}}}, ""))
		storetest.Must(db.ReviewHelpPlan(ctx, w.lead, w.person.ID, day, "已面试", day.AddDays(30)))
		d, err := w.svc.Generate(ctx, w.lead, w.person.ID, "help_plan")
		if err != nil {
			t.Fatal(err)
		}
		if d.Kind != "help_plan" || !strings.Contains(d.Title, "帮扶计划书") {
			t.Fatalf("document %+v", d)
		}
		_, content, err := w.svc.Download(ctx, w.lead, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		text := compact(pdfText(t, content))
		for _, s := range []string{"帮扶计划书", "黎海燕", "家庭经济困难", "稳定就业", "推荐厂区岗位", "2026-07-09", "已面试", "2026-06-09"} {
			if !strings.Contains(text, compact(s)) {
				t.Errorf("the plan lacks %q", s)
			}
		}
	})
}
