package jobs_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"kangfu/internal/casework"
	"kangfu/internal/jobs"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// The test-day notice job (issue 5 §2) run twice on the morning of a
// forced day writes one app message, and the outbox job sends one SMS.
func TestTestNoticeJobRunTwiceNotifiesOnce(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			// 9 March 2026, 10:00 in Beijing; the store's clock, safe across
			// the job goroutines.
			var now atomic.Int64
			now.Store(time.Date(2026, 3, 9, 2, 0, 0, 0, time.UTC).UnixNano())
			db := storetest.Open(t, e, func() time.Time { return time.Unix(0, now.Load()).UTC() })
			if _, err := db.MigrateJobs(ctx); err != nil {
				t.Fatal(err)
			}
			var parent string
			var org, street *casework.Org
			for i, k := range []casework.OrgKind{casework.KindProvince, casework.KindCity, casework.KindCounty, casework.KindTownship, casework.KindCommunity} {
				org = storetest.Must(db.CreateOrg(ctx, sys, casework.OrgInput{ParentID: parent, Kind: k, Name: fmt.Sprint("单位", i)}))
				parent = org.ID
				if k == casework.KindTownship {
					street = org
				}
			}
			u := storetest.Must(db.CreateUser(ctx, sys, casework.UserInput{Username: "lead", OrgID: street.ID, Password: "long-enough-pw"}, "x", false))
			g := storetest.Must(db.GrantRole(ctx, sys, u.ID, casework.RoleLead, street.ID))
			lead := &casework.Actor{UserID: u.ID, Username: "lead", Name: "lead", Grants: []casework.Grant{*g}}
			body := "46020319900101011"
			m := &casework.MeasureInput{Kind: casework.MeasureTreatment, DecisionNumber: "决字2号", DecisionAuthority: "公安局",
				DecisionDate: casework.MustParseDate("2026-01-05"), ReceivedDate: casework.MustParseDate("2026-01-05"),
				ReportDate: casework.MustParseDate("2026-01-06")}
			p := storetest.Must(db.CreatePerson(ctx, lead, casework.PersonInput{OrgID: org.ID, Name: "郑检测",
				IDNumber: body + string(casework.IDCheckChar(body)), Phone: "13900001111"}, m))
			storetest.Must(db.ForceTestDay(ctx, lead, p.ID, casework.MustParseDate("2026-03-10"), "专项行动"))
			now.Store(time.Date(2026, 3, 10, 1, 0, 0, 0, time.UTC).UnixNano()) // 10 March, 09:00

			var mu sync.Mutex
			var sent []string
			sms := smsFunc(func(_ context.Context, phone, text string) error {
				mu.Lock()
				defer mu.Unlock()
				sent = append(sent, phone+" "+text)
				return nil
			})
			r := runner(t, db, jobs.Config{NoPeriodic: true, SMS: sms, Workers: 1})
			ch, cancel := r.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
			defer cancel()
			for range 2 {
				if _, _, err := r.Insert(ctx, jobs.TestNoticeArgs{}); err != nil {
					t.Fatal(err)
				}
			}
			if err := r.Start(ctx); err != nil {
				t.Fatal(err)
			}
			for _, ev := range waitFor(t, ch, 2, "two notice jobs") {
				if ev.Kind != river.EventKindJobCompleted {
					t.Fatalf("job %s: %s %v", ev.Job.Kind, ev.Kind, ev.Job.Errors)
				}
			}
			ms, _, err := db.ListPersonMessages(ctx, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) != 1 || ms[0].Kind != "test.today" || ms[0].Body != store.TestTodayText("zh", "所属派出所", "18:00") {
				t.Fatalf("messages %+v, want one test notice", ms)
			}
			if _, _, err := r.Insert(ctx, jobs.DeliverArgs{}); err != nil {
				t.Fatal(err)
			}
			waitFor(t, ch, 1, "delivery")
			mu.Lock()
			defer mu.Unlock()
			if len(sent) != 1 || !strings.HasPrefix(sent[0], "13900001111 今天请到所属派出所检测") {
				t.Fatalf("sms %q, want one", sent)
			}
		})
	}
}
