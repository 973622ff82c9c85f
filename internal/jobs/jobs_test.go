package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"kangfu/internal/casework"
	"kangfu/internal/jobs"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

var (
	ctx = context.Background()
	sys = casework.SystemActor("test")
)

// open opens a migrated store with the job tables.
func open(t *testing.T, e storetest.Engine) *store.DB {
	t.Helper()
	db := storetest.Open(t, e, nil)
	if _, err := db.MigrateJobs(ctx); err != nil {
		t.Fatalf("migrate jobs: %v", err)
	}
	return db
}

// each runs fn on SQLite and, when configured, PostgreSQL.
func each(t *testing.T, fn func(t *testing.T, e storetest.Engine, db *store.DB)) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) { fn(t, e, open(t, e)) })
	}
}

func runner(t *testing.T, db *store.DB, cfg jobs.Config) *jobs.Runner {
	t.Helper()
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 100 * time.Millisecond
	}
	r, err := jobs.New(ctx, db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		r.Stop(c)
	})
	return r
}

// waitFor waits until n events of the kinds have arrived.
func waitFor(t *testing.T, ch <-chan *river.Event, n int, what string) []*river.Event {
	t.Helper()
	var got []*river.Event
	timeout := time.After(30 * time.Second)
	for len(got) < n {
		select {
		case ev := <-ch:
			got = append(got, ev)
		case <-timeout:
			t.Fatalf("%s: %d of %d events after 30s", what, len(got), n)
		}
	}
	return got
}

// person makes an org tree, a worker and a person whose 3-year term ended
// before today (R15), with a phone.
func person(t *testing.T, db *store.DB) (*casework.Actor, *casework.Person) {
	t.Helper()
	var parent string
	var org *casework.Org
	for i, k := range []casework.OrgKind{casework.KindProvince, casework.KindCity, casework.KindCounty, casework.KindTownship, casework.KindCommunity} {
		org = storetest.Must(db.CreateOrg(ctx, sys, casework.OrgInput{ParentID: parent, Kind: k, Name: fmt.Sprint("单位", i)}))
		parent = org.ID
	}
	u := storetest.Must(db.CreateUser(ctx, sys, casework.UserInput{Username: "worker", OrgID: org.ID, Password: "long-enough-pw"}, "x", false))
	g := storetest.Must(db.GrantRole(ctx, sys, u.ID, casework.RoleWorker, org.ID))
	worker := &casework.Actor{UserID: u.ID, Username: "worker", Name: "worker", Grants: []casework.Grant{*g}}
	body := "46020319800101011"
	id := body + string(casework.IDCheckChar(body))
	report := casework.DateOf(time.Now(), nil).AddYears(-3).AddDays(-2)
	m := &casework.MeasureInput{Kind: casework.MeasureTreatment, DecisionNumber: "决字1号", DecisionAuthority: "公安局",
		DecisionDate: report.AddDays(-3), ReceivedDate: report.AddDays(-3), ReportDate: report}
	p := storetest.Must(db.CreatePerson(ctx, worker, casework.PersonInput{OrgID: org.ID, Name: "吴期满", IDNumber: id, Phone: "13812345678"}, m))
	return worker, p
}

func countAudit(t *testing.T, db *store.DB, action string) int {
	t.Helper()
	root := &casework.Actor{UserID: "x", Grants: []casework.Grant{{Role: casework.RoleAuditor, OrgPath: "/"}}}
	_, n, err := db.ListAudit(ctx, root, store.AuditFilter{Action: action, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A job run twice changes nothing the second time: the release job twice
// releases the measure once (R15), and the outbox job twice sends the SMS
// once.
func TestJobRunTwiceChangesNothing(t *testing.T) {
	each(t, func(t *testing.T, e storetest.Engine, db *store.DB) {
		worker, p := person(t, db)
		var sent []string
		var mu sync.Mutex
		sms := smsFunc(func(_ context.Context, phone, text string) error {
			mu.Lock()
			defer mu.Unlock()
			sent = append(sent, phone+" "+text)
			return nil
		})
		err := db.Write(ctx, func(tx *store.Tx) error {
			_, err := tx.NotifyPerson(ctx, store.PersonNotice{PersonID: p.ID, Kind: "test.today", Body: "今天请到派出所检测", SMS: true, Key: "k1"})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		r := runner(t, db, jobs.Config{NoPeriodic: true, SMS: sms, Workers: 1})
		ch, cancel := r.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
		defer cancel()
		for _, a := range []river.JobArgs{jobs.ReleaseArgs{}, jobs.ReleaseArgs{}, jobs.DeliverArgs{}, jobs.DeliverArgs{}} {
			if _, _, err := r.Insert(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		if err := r.Start(ctx); err != nil {
			t.Fatal(err)
		}
		for _, ev := range waitFor(t, ch, 4, "four jobs") {
			if ev.Kind != river.EventKindJobCompleted {
				t.Fatalf("job %s: %s %v", ev.Job.Kind, ev.Kind, ev.Job.Errors)
			}
		}
		got := storetest.Must(db.GetPerson(ctx, worker, p.ID, ""))
		if got.Status != casework.StatusReleased {
			t.Fatalf("status %s, want released", got.Status)
		}
		if n := countAudit(t, db, "measure.release"); n != 1 {
			t.Fatalf("%d release audit rows, want 1", n)
		}
		if len(sent) != 1 || sent[0] != "13812345678 今天请到派出所检测" {
			t.Fatalf("sms sent %q, want once", sent)
		}
		// The same notice again (a job that notifies run twice) is not sent again.
		err = db.Write(ctx, func(tx *store.Tx) error {
			ok, err := tx.NotifyPerson(ctx, store.PersonNotice{PersonID: p.ID, Kind: "test.today", Body: "今天请到派出所检测", SMS: true, Key: "k1"})
			if ok {
				t.Error("a notice with a used key was written again")
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

type smsFunc func(ctx context.Context, phone, text string) error

func (f smsFunc) Send(ctx context.Context, phone, text string) error { return f(ctx, phone, text) }

// A job inserted while no server works survives the stop: a new client
// (a restarted server) runs it.
func TestJobSurvivesRestart(t *testing.T) {
	each(t, func(t *testing.T, e storetest.Engine, db *store.DB) {
		day := casework.MustParseDate("2025-06-01")
		first := runner(t, db, jobs.Config{NoPeriodic: true})
		if _, _, err := first.Insert(ctx, jobs.DetectArgs{Date: day}); err != nil {
			t.Fatal(err)
		}
		if err := first.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		var got atomic.Value
		second := runner(t, db, jobs.Config{NoPeriodic: true, Detect: func(_ context.Context, today casework.Date) error {
			got.Store(today)
			return nil
		}})
		ch, cancel := second.Subscribe(river.EventKindJobCompleted)
		defer cancel()
		if err := second.Start(ctx); err != nil {
			t.Fatal(err)
		}
		waitFor(t, ch, 1, "the job inserted before the restart")
		if d, _ := got.Load().(casework.Date); d != day {
			t.Fatalf("detection ran for %v, want %v", got.Load(), day)
		}
		// The same date again is a duplicate: one detection per day.
		if _, dup, err := second.Insert(ctx, jobs.DetectArgs{Date: day}); err != nil || !dup {
			t.Fatalf("second insert for the same date: duplicate=%v err=%v", dup, err)
		}
	})
}

// laterRetry keeps a failed job waiting an hour, so the test sees it.
type laterRetry struct{}

func (laterRetry) NextRetry(*rivertype.JobRow) time.Time { return time.Now().Add(time.Hour) }

// A failing job shows its error and attempt count to the admin, only to
// the admin, and "retry now" runs it again.
func TestFailingJobShowsErrorAndRetries(t *testing.T) {
	each(t, func(t *testing.T, e storetest.Engine, db *store.DB) {
		var calls atomic.Int32
		r := runner(t, db, jobs.Config{NoPeriodic: true, RetryPolicy: laterRetry{}, Detect: func(context.Context, casework.Date) error {
			if calls.Add(1) == 1 {
				return errors.New("检测数据源不可用")
			}
			return nil
		}})
		ch, cancel := r.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
		defer cancel()
		id, _, err := r.Insert(ctx, jobs.DetectArgs{Date: casework.MustParseDate("2025-06-02")})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if ev := waitFor(t, ch, 1, "the failure")[0]; ev.Kind != river.EventKindJobFailed {
			t.Fatalf("first event %s, want failed", ev.Kind)
		}
		admin := &casework.Actor{UserID: "a", Grants: []casework.Grant{{Role: casework.RoleAdmin, OrgPath: "/x/"}}}
		list := storetest.Must(db.ListJobs(ctx, admin, store.JobFilter{State: "retryable"}))
		if len(list) != 1 || list[0].ID != id || list[0].Attempt != 1 || list[0].LastError() != "检测数据源不可用" || !list[0].Failed() {
			t.Fatalf("retryable jobs %+v, want job %d at attempt 1 with its error", list, id)
		}
		counts := storetest.Must(db.JobCounts(ctx, admin))
		if len(counts) != 1 || counts[0] != (store.JobCount{Kind: "nightly_detection", State: "retryable", N: 1}) {
			t.Fatalf("counts %+v", counts)
		}
		lead := &casework.Actor{UserID: "l", Grants: []casework.Grant{{Role: casework.RoleLead, OrgPath: "/x/"}}}
		if _, err := db.ListJobs(ctx, lead, store.JobFilter{}); !casework.IsCode(err, casework.EFORBIDDEN) {
			t.Fatalf("a lead lists jobs: %v, want forbidden", err)
		}
		if _, err := db.RetryJob(ctx, admin, id+1000); !casework.IsCode(err, casework.ENOTFOUND) {
			t.Fatalf("retry of an unknown job: %v", err)
		}
		if _, err := db.RetryJob(ctx, admin, id); err != nil {
			t.Fatal(err)
		}
		if ev := waitFor(t, ch, 1, "the retry")[0]; ev.Kind != river.EventKindJobCompleted || ev.Job.Attempt != 2 {
			t.Fatalf("after retry: %s at attempt %d, want completed at 2", ev.Kind, ev.Job.Attempt)
		}
		done := storetest.Must(db.ListJobs(ctx, admin, store.JobFilter{Kind: "nightly_detection"}))
		if len(done) != 1 || done[0].State != "completed" || len(done[0].Errors) != 1 {
			t.Fatalf("after retry: %+v", done)
		}
		if _, err := db.RetryJob(ctx, admin, id); !casework.IsCode(err, casework.ECONFLICT) {
			t.Fatalf("retry of a completed job: %v, want conflict", err)
		}
		if n := countAudit(t, db, "job.retry"); n != 1 {
			t.Fatalf("%d job.retry audit rows, want 1", n)
		}
	})
}

// Two servers (two connection pools, two clients) against one PostgreSQL
// database: the periodic jobs are enqueued by the leader alone, with a
// unique key per day, so the nightly detection runs once.
func TestTwoServersRunPeriodicJobOnce(t *testing.T) {
	var pg *storetest.Engine
	for _, e := range storetest.Engines(t) {
		if e.Name == "postgres" {
			pg = &e
		}
	}
	if pg == nil {
		t.Skip("KANGFU_TEST_POSTGRES not set")
	}
	var runs atomic.Int32
	detect := func(context.Context, casework.Date) error { runs.Add(1); return nil }
	dbs := []*store.DB{open(t, *pg), storetest.Open(t, *pg, nil)}
	var rs []*jobs.Runner
	for _, db := range dbs {
		r := runner(t, db, jobs.Config{Detect: detect, Interval: time.Hour})
		rs = append(rs, r)
	}
	ch, cancel := rs[0].Subscribe(river.EventKindJobCompleted)
	defer cancel()
	ch2, cancel2 := rs[1].Subscribe(river.EventKindJobCompleted)
	defer cancel2()
	for _, r := range rs {
		if err := r.Start(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Both servers consider the periodic jobs at start; wait until the
	// detection has run and some time beyond for a second run to show.
	deadline := time.After(30 * time.Second)
	for runs.Load() == 0 {
		select {
		case <-ch:
		case <-ch2:
		case <-deadline:
			t.Fatal("the nightly detection did not run within 30s")
		}
	}
	time.Sleep(3 * time.Second)
	if n := runs.Load(); n != 1 {
		t.Fatalf("nightly detection ran %d times, want once", n)
	}
	admin := &casework.Actor{UserID: "a", Grants: []casework.Grant{{Role: casework.RoleAdmin, OrgPath: "/x/"}}}
	for _, kind := range []string{"nightly_detection", "release_expired", "start_due_leaves"} {
		list := storetest.Must(dbs[0].ListJobs(ctx, admin, store.JobFilter{Kind: kind}))
		if len(list) != 1 {
			t.Errorf("%s: %d jobs, want 1", kind, len(list))
		}
	}
}
