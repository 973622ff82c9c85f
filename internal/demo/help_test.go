package demo_test

import (
	"context"
	"testing"

	"kangfu/internal/casework"
	"kangfu/internal/demo"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// The factory's year (seed story, issue 11 §9): everyone under a measure in
// work, two families on 低保, a methadone enrolment waiting for its R41
// report, 40 prevention events; loading twice adds nothing.
func TestLoadHelp(t *testing.T) {
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		res := storetest.Must(demo.Load(ctx, db))
		storetest.Must(demo.Load(ctx, db))
		sys := casework.SystemActor("test")
		s := storetest.Must(db.EmploymentOverview(ctx, sys, res.Tree.Factory.ID, casework.DateOf(db.Now(), nil)))
		if rate, ok := s.Rate(); !ok || rate != 1 || s.Under < 20 {
			t.Errorf("factory: %d under a measure, rate %v; want everyone in work", s.Under, rate)
		}
		dibao := storetest.Must(db.ListAssistanceAll(ctx, sys, store.AssistanceFilter{Kind: casework.AidDibao, Status: casework.AidApproved}))
		if len(dibao) != 2 {
			t.Errorf("%d families on 低保, want 2", len(dibao))
		}
		methadone := storetest.Must(db.ListAssistanceAll(ctx, sys, store.AssistanceFilter{Kind: casework.AidMethadone}))
		if len(methadone) != 1 || !methadone[0].NeedsPoliceReport() {
			t.Errorf("methadone: %+v", methadone)
		}
		if c := storetest.Must(db.CountEvents(ctx, sys, store.EventFilter{})); c.Events != 40 {
			t.Errorf("%d events, want 40", c.Events)
		}
	})
}
