package api_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// The person's app shows upcoming counselling appointments on the today
// screen (issue 11 §10): planned and in the future only, without notes.
func TestAppTodayAppointments(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newAppSite(t, db)
		p, r := s.activate("246813")
		if r.Status != 201 {
			t.Fatalf("activate: %d %s", r.Status, r.Raw)
		}
		sys := casework.SystemActor("test")
		for _, in := range []casework.CounsellingInput{
			{CounsellorName: "赵老师", HeldAt: time.Now().Add(50 * time.Hour), Minutes: 50, Mode: "in_person", Planned: true, Notes: "不给本人看的备注"},
			{CounsellorName: "赵老师", HeldAt: time.Now().Add(-50 * time.Hour), Minutes: 50, Mode: "phone", Notes: "已进行"},
		} {
			storetest.Must(db.RecordCounselling(context.Background(), sys, s.person, in))
		}
		today := s.do("GET", "/api/v1/app/today", nil, p.hdr(""))
		items, _ := today.Body["appointments"].([]any)
		if today.Status != 200 || len(items) != 1 || !strings.Contains(today.Raw, "心理咨询（赵老师") || strings.Contains(today.Raw, "备注") {
			t.Fatalf("today: %d %s", today.Status, today.Raw)
		}
	})
}
