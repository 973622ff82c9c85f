package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"kangfu/internal/casework"
)

// The job kinds. Arguments hold dates and nothing about persons: the admin
// who watches the queue sees no person data.

// ReleaseArgs releases measures whose term has ended (R15).
type ReleaseArgs struct{}

// Kind names the job.
func (ReleaseArgs) Kind() string { return "release_expired" }

// LeaveStartArgs starts approved leaves on their first local day (R28).
type LeaveStartArgs struct{}

// Kind names the job.
func (LeaveStartArgs) Kind() string { return "start_due_leaves" }

// DeliverArgs delivers the notification outbox (SMS).
type DeliverArgs struct{}

// Kind names the job.
func (DeliverArgs) Kind() string { return "deliver_notifications" }

// TestNoticeArgs tells the persons with a test day today where to go and
// by when, once their test hours have begun (store.NotifyTestsToday).
type TestNoticeArgs struct{}

// Kind names the job.
func (TestNoticeArgs) Kind() string { return "notify_tests_today" }

// IncentiveArgs credits incentive points for the verified events
// recorded since the last run (store.AwardIncentives, issue 14): often,
// so points come the same day the event is recorded.
type IncentiveArgs struct{}

// Kind names the job.
func (IncentiveArgs) Kind() string { return "award_incentives" }

// DrawsArgs makes the test draws of one local date.
type DrawsArgs struct {
	Date casework.Date `json:"date"`
}

// Kind names the job.
func (DrawsArgs) Kind() string { return "daily_draws" }

// InsertOpts makes one job per date, however many servers enqueue it.
func (DrawsArgs) InsertOpts() river.InsertOpts { return dailyOpts() }

// DetectArgs runs the nightly detection for one local date.
type DetectArgs struct {
	Date casework.Date `json:"date"`
}

// Kind names the job.
func (DetectArgs) Kind() string { return "nightly_detection" }

// InsertOpts makes one job per date, however many servers enqueue it.
func (DetectArgs) InsertOpts() river.InsertOpts { return dailyOpts() }

// RollupArgs refreshes the report rollups of one local date's buckets
// (this month and year, last month: store.RefreshRollups, issue 12).
type RollupArgs struct {
	Date casework.Date `json:"date"`
}

// Kind names the job.
func (RollupArgs) Kind() string { return "report_rollups" }

// InsertOpts makes one job per date, however many servers enqueue it.
func (RollupArgs) InsertOpts() river.InsertOpts { return dailyOpts() }

// SealArgs seals the files whose retention period after release has
// passed (R38; store.SealExpired), nightly.
type SealArgs struct {
	Date casework.Date `json:"date"`
}

// Kind names the job.
func (SealArgs) Kind() string { return "nightly_sealing" }

// InsertOpts makes one job per date, however many servers enqueue it.
func (SealArgs) InsertOpts() river.InsertOpts { return dailyOpts() }

// ExportArgs writes the monthly summaries owed on one local date (each
// office's completed months not yet in the export folder; issue 12 §5).
type ExportArgs struct {
	Date casework.Date `json:"date"`
}

// Kind names the job.
func (ExportArgs) Kind() string { return "monthly_summary_exports" }

// InsertOpts makes one job per date, however many servers enqueue it.
func (ExportArgs) InsertOpts() river.InsertOpts { return dailyOpts() }

// SpotCheckArgs draws the identity spot-check samples of the ISO weeks
// ended by one local date (issue 17 §4; store.DrawSpotChecks). It runs
// daily so a server down on a Monday catches up; a sample is drawn once
// per worker and week.
type SpotCheckArgs struct {
	Date casework.Date `json:"date"`
}

// Kind names the job.
func (SpotCheckArgs) Kind() string { return "weekly_spot_checks" }

// InsertOpts makes one job per date, however many servers enqueue it.
func (SpotCheckArgs) InsertOpts() river.InsertOpts { return dailyOpts() }

// dailyOpts: unique by the date in the arguments, across every state river
// keeps by default (completed included, for the week the row is kept), so a
// server restarting the same day does not run the day again.
func dailyOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}, MaxAttempts: 10}
}

func (r *Runner) addWorkers(w *river.Workers) {
	river.AddWorker(w, river.WorkFunc(func(ctx context.Context, j *river.Job[ReleaseArgs]) error {
		n, err := r.db.ReleaseExpired(ctx)
		if n > 0 {
			r.cfg.Log.InfoContext(ctx, "release job: measures released at term end (R15)", "count", n)
		}
		// R16: the same periodic job marks 戒断三年未复吸 on the day it is reached.
		k, err2 := r.db.MarkNoRelapse(ctx)
		if k > 0 {
			r.cfg.Log.InfoContext(ctx, "release job: persons marked 3 years without relapse (R16)", "count", k)
		}
		return errors.Join(err, err2)
	}))
	river.AddWorker(w, river.WorkFunc(func(ctx context.Context, j *river.Job[LeaveStartArgs]) error {
		n, err := r.db.StartDueLeaves(ctx)
		if n > 0 {
			r.cfg.Log.InfoContext(ctx, "leave job: approved leaves begun (R28)", "count", n)
		}
		return err
	}))
	river.AddWorker(w, river.WorkFunc(func(ctx context.Context, j *river.Job[DeliverArgs]) error {
		d, err := r.db.DeliverOutbox(ctx, r.send, 500)
		if d.Sent+d.Failed+d.Skipped > 0 {
			r.cfg.Log.InfoContext(ctx, "notifications delivered", "sent", d.Sent, "failed", d.Failed, "skipped", d.Skipped)
		}
		return err
	}))
	river.AddWorker(w, river.WorkFunc(func(ctx context.Context, j *river.Job[TestNoticeArgs]) error {
		run, err := r.db.NotifyTestsToday(ctx)
		if run.Notified > 0 {
			r.cfg.Log.InfoContext(ctx, "test-day notices sent", "notified", run.Notified, "waiting", run.Waiting, "late", run.Late)
		}
		return err
	}))
	river.AddWorker(w, river.WorkFunc(func(ctx context.Context, j *river.Job[IncentiveArgs]) error {
		run, err := r.db.AwardIncentives(ctx)
		if run.Rows > 0 {
			r.cfg.Log.InfoContext(ctx, "incentive points awarded", "persons", run.Persons, "rows", run.Rows, "points", run.Points, "capped", run.Capped)
		}
		return err
	}))
	river.AddWorker(w, river.WorkFunc(func(ctx context.Context, j *river.Job[DrawsArgs]) error {
		if r.cfg.Draws == nil {
			return nil
		}
		return r.cfg.Draws(ctx, j.Args.Date)
	}))
	river.AddWorker(w, river.WorkFunc(func(ctx context.Context, j *river.Job[RollupArgs]) error {
		buckets, err := r.db.RefreshRollups(ctx)
		r.cfg.Log.InfoContext(ctx, "report rollups refreshed", "buckets", buckets)
		return err
	}))
	river.AddWorker(w, river.WorkFunc(func(ctx context.Context, j *river.Job[SealArgs]) error {
		n, err := r.db.SealExpired(ctx)
		if n > 0 {
			r.cfg.Log.InfoContext(ctx, "sealing job: released files sealed after the retention period (R38)", "count", n)
		}
		if err != nil {
			return err
		}
		// Check-in face data past identity.retention_days (issue 17, R36).
		f, err := r.db.PurgeFaceData(ctx)
		if f > 0 {
			r.cfg.Log.InfoContext(ctx, "retention job: check-in face data deleted after identity.retention_days (R36)", "count", f)
		}
		return err
	}))
	river.AddWorker(w, river.WorkFunc(func(ctx context.Context, j *river.Job[ExportArgs]) error {
		if r.cfg.Exports == nil {
			return nil
		}
		return r.cfg.Exports(ctx, j.Args.Date)
	}))
	river.AddWorker(w, river.WorkFunc(func(ctx context.Context, j *river.Job[SpotCheckArgs]) error {
		run, err := r.db.DrawSpotChecks(ctx)
		if run.Samples > 0 || run.Skipped > 0 {
			r.cfg.Log.InfoContext(ctx, "identity spot checks drawn", "samples", run.Samples, "items", run.Items, "skipped_no_seed", run.Skipped)
		}
		return err
	}))
	river.AddWorker(w, river.WorkFunc(func(ctx context.Context, j *river.Job[DetectArgs]) error {
		if r.cfg.Detect == nil {
			return nil
		}
		return r.cfg.Detect(ctx, j.Args.Date)
	}))
}

// send delivers one outbox row on its channel.
func (r *Runner) send(ctx context.Context, channel, to, text string) error {
	switch channel {
	case "sms":
		return r.cfg.SMS.Send(ctx, to, text)
	}
	return fmt.Errorf("no driver for channel %q", channel)
}

// periodic lists the periodic jobs. Every one runs on start too: a server
// started mid-day catches up, and the unique keys keep that to once.
func (r *Runner) periodic() []*river.PeriodicJob {
	every := func(d time.Duration, args river.JobArgs) *river.PeriodicJob {
		return river.NewPeriodicJob(river.PeriodicInterval(d), func() (river.JobArgs, *river.InsertOpts) {
			// One job per interval slot, whichever server is leader.
			return args, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: d}, MaxAttempts: 3}
		}, &river.PeriodicJobOpts{RunOnStart: true, ID: args.Kind()})
	}
	jobs := []*river.PeriodicJob{
		every(r.cfg.Interval, ReleaseArgs{}),
		every(r.cfg.Interval, LeaveStartArgs{}),
		every(r.cfg.DeliverEvery, DeliverArgs{}),
		// Each place's notice time is its own test.hours start, so the job
		// looks often; the notice keys keep it to one notice per test day.
		every(r.cfg.NotifyEvery, TestNoticeArgs{}),
		every(r.cfg.NotifyEvery, IncentiveArgs{}),
	}
	daily := func(hour, minute int, args func(casework.Date) river.JobArgs, id string) *river.PeriodicJob {
		return river.NewPeriodicJob(dailyAt{hour, minute, r.cfg.Zone}, func() (river.JobArgs, *river.InsertOpts) {
			return args(r.today()), nil
		}, &river.PeriodicJobOpts{RunOnStart: true, ID: id})
	}
	// The report rollups after the night's detection (issue 12).
	jobs = append(jobs, daily(1, 30, func(d casework.Date) river.JobArgs { return RollupArgs{Date: d} }, "report_rollups"))
	// Sealing after the retention period (R38), after the rollups so the
	// night's figures are made before a file leaves the lists.
	jobs = append(jobs, daily(2, 0, func(d casework.Date) river.JobArgs { return SealArgs{Date: d} }, "nightly_sealing"))
	// The week's identity spot checks after the draws committed the seeds
	// (issue 17 §4): on Monday the sample of the week just ended.
	jobs = append(jobs, daily(0, 45, func(d casework.Date) river.JobArgs { return SpotCheckArgs{Date: d} }, "weekly_spot_checks"))
	if r.cfg.Draws != nil {
		jobs = append(jobs, daily(0, 5, func(d casework.Date) river.JobArgs { return DrawsArgs{Date: d} }, "daily_draws"))
	}
	if r.cfg.Exports != nil {
		jobs = append(jobs, daily(2, 0, func(d casework.Date) river.JobArgs { return ExportArgs{Date: d} }, "monthly_summary_exports"))
	}
	if r.cfg.Detect != nil {
		jobs = append(jobs, daily(0, 30, func(d casework.Date) river.JobArgs { return DetectArgs{Date: d} }, "nightly_detection"))
	}
	return jobs
}

// dailyAt is a schedule at a local time of day.
type dailyAt struct {
	hour, minute int
	loc          *time.Location
}

// Next returns the first hour:minute in the zone after t.
func (s dailyAt) Next(t time.Time) time.Time {
	l := t.In(s.loc)
	n := time.Date(l.Year(), l.Month(), l.Day(), s.hour, s.minute, 0, 0, s.loc)
	if !n.After(t) {
		n = time.Date(l.Year(), l.Month(), l.Day()+1, s.hour, s.minute, 0, 0, s.loc)
	}
	return n
}
