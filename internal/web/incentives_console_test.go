package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// auditCount counts the audit rows of an action about a person.
func (s *site) auditCount(action, personID string) int {
	s.t.Helper()
	var n int
	err := s.db.Read(context.Background(), func(tx *store.Tx) error {
		return tx.QueryRow(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE action = ? AND target_id = ?`, action, personID).Scan(&n)
	})
	if err != nil {
		s.t.Fatal(err)
	}
	return n
}

// incentivesOn turns incentives on for street A from tomorrow (policy: a
// day already begun keeps its own) and moves the clock to tomorrow.
func (s *site) incentivesOn(clock *storetest.Clock) {
	s.t.Helper()
	storetest.Must(s.db.CreatePolicyVersion(context.Background(), s.sys, s.streetA.ID, casework.PolicyVersionInput{EffectiveFrom: s.today.AddDays(1),
		Settings: map[string]string{"incentive.enabled": "true"}, Note: "试点"}))
	clock.Add(24 * time.Hour)
	s.today = s.today.AddDays(1)
	s.relogin()
}

// TestIncentiveConsentInConsole (issue 14 §1): a worker records the
// person's consent with a note and its withdrawal with the reason on the
// person's points page; a bad form answers with the message beside its
// field and keeps what was typed; each step is audited; nobody outside
// the office's subtree learns the person exists.
func TestIncentiveConsentInConsole(t *testing.T) {
	storetest.EachWithClock(t, time.Date(2026, 11, 10, 2, 0, 0, 0, time.UTC), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		s := newSite(t, db)
		pid := s.createPerson("worker", s.newPersonForm("陈小红", idNumber("46020319881231002"), "13700000001", 10, true))
		path := "/persons/" + pid + "/incentives"

		// Incentives off: no consent form, and a consent sent anyway is refused.
		if body := s.get("worker", "zh", path); strings.Contains(body, `data-testid="consent-form"`) {
			t.Fatal("the consent form shows while the office has incentives off")
		}
		status, _, body := s.do("worker", "zh", "POST", path+"/consent", url.Values{"note": {"本人书面同意"}})
		if status != http.StatusUnprocessableEntity || !strings.Contains(body, "尚未启用积分激励") || !strings.Contains(body, "本人书面同意") {
			t.Fatalf("consent while off: %d, want 422 saying incentives are off and keeping the note\n%s", status, excerpt(body))
		}
		s.incentivesOn(clock)
		if body := s.get("worker", "en", path); !strings.Contains(body, `data-testid="consent-form"`) || !strings.Contains(body, "陈小红") {
			t.Fatalf("no consent form once incentives are on:\n%s", excerpt(body))
		}

		// A note too long: beside the note, kept, nothing written.
		long := strings.Repeat("同", casework.MaxReason+1)
		s.refusedBoth("worker", path+"/consent", url.Values{"note": {long}},
			map[string]string{"note": "1000"}, map[string]string{"note": "1000"}, long)
		if n := s.auditCount("incentive.consent", pid); n != 0 {
			t.Fatalf("a refused consent wrote %d audit rows", n)
		}

		// Outside the subtree, the same answer as an unknown person.
		unknown := "/persons/00000000-0000-7000-8000-000000000009/incentives"
		stOut, _, _ := s.do("leadb", "zh", "POST", path+"/consent", url.Values{"note": {"x"}})
		stUnknown, _, _ := s.do("leadb", "zh", "POST", unknown+"/consent", url.Values{"note": {"x"}})
		if stOut != stUnknown || stOut != http.StatusNotFound {
			t.Fatalf("consent from outside the subtree: %d, unknown person: %d; want both 404", stOut, stUnknown)
		}

		if loc := s.post("worker", path+"/consent", url.Values{"note": {"本人已签书面同意书"}}); !strings.HasPrefix(loc, path+"?flash=incentive_consent") {
			t.Fatalf("consent redirected to %q", loc)
		}
		if n := s.auditCount("incentive.consent", pid); n != 1 {
			t.Fatalf("consent audited %d times, want 1", n)
		}
		body = s.get("worker", "zh", path+"?flash=incentive_consent")
		for _, want := range []string{"已登记本人同意", "本人已签书面同意书", `data-testid="revoke-form"`} {
			if !strings.Contains(body, want) {
				t.Errorf("after consent the page lacks %q", want)
			}
		}
		if strings.Contains(body, `data-testid="consent-form"`) {
			t.Error("the consent form still shows while consent is in force")
		}
		// A second consent: refused, in words.
		status, _, body = s.do("worker", "en", "POST", path+"/consent", url.Values{"note": {"again"}})
		if status != http.StatusUnprocessableEntity || !strings.Contains(body, "already consented") {
			t.Fatalf("second consent: %d\n%s", status, excerpt(body))
		}

		// Withdrawal: the reason is required; a long one is kept.
		s.refusedBoth("worker", path+"/consent/revoke", url.Values{"reason": {""}},
			map[string]string{"reason": "撤回原因"}, map[string]string{"reason": "reason for the withdrawal"})
		s.refusedBoth("worker", path+"/consent/revoke", url.Values{"reason": {long}},
			map[string]string{"reason": "1000"}, map[string]string{"reason": "1000"}, long)
		if n := s.auditCount("incentive.consent_revoke", pid); n != 0 {
			t.Fatalf("a refused withdrawal wrote %d audit rows", n)
		}
		stOut, _, _ = s.do("leadb", "zh", "POST", path+"/consent/revoke", url.Values{"reason": {"x"}})
		stUnknown, _, _ = s.do("leadb", "zh", "POST", unknown+"/consent/revoke", url.Values{"reason": {"x"}})
		if stOut != stUnknown || stOut != http.StatusNotFound {
			t.Fatalf("withdrawal from outside the subtree: %d, unknown person: %d; want both 404", stOut, stUnknown)
		}
		s.post("worker", path+"/consent/revoke", url.Values{"reason": {"本人不再参加"}})
		if n := s.auditCount("incentive.consent_revoke", pid); n != 1 {
			t.Fatalf("withdrawal audited %d times, want 1", n)
		}
		acc := storetest.Must(db.IncentiveAccountOf(context.Background(), s.sys, pid))
		if acc.Consent != nil || len(acc.Consents) != 1 || acc.Consents[0].RevokeReason != "本人不再参加" {
			t.Fatalf("after the withdrawal: %+v", acc.Consents)
		}
		body = s.get("worker", "en", path)
		if !strings.Contains(body, "Consent withdrawn on") || !strings.Contains(body, "本人不再参加") || !strings.Contains(body, `data-testid="consent-form"`) {
			t.Errorf("after the withdrawal the page does not say so or offer a new consent:\n%s", excerpt(body))
		}
		// Withdrawing again: nothing in force.
		status, _, body = s.do("worker", "zh", "POST", path+"/consent/revoke", url.Values{"reason": {"再撤一次"}})
		if status != http.StatusUnprocessableEntity || !strings.Contains(body, "尚未同意") {
			t.Fatalf("second withdrawal: %d\n%s", status, excerpt(body))
		}
	})
}

// TestIncentiveReversalInConsole (issue 14 §2): a lead reverses an award
// with the reason, once; the page offers the reversal only to a lead and
// only on awards not yet reversed; a worker is refused; outside the
// subtree answers as an unknown person.
func TestIncentiveReversalInConsole(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db)
		ctx := context.Background()
		pid := s.createPerson("worker", s.newPersonForm("陈小红", idNumber("46020319881231002"), "13700000001", 10, true))
		path := "/persons/" + pid + "/incentives"
		award, redeemed := store.NewID(), store.NewID()
		err := db.Write(ctx, func(tx *store.Tx) error {
			for _, r := range []struct {
				id, rule, kind string
				points         int
			}{{award, casework.AwardNegative, "drug_test", 15}, {redeemed, casework.AwardRedeemed, "redemption", -5}} {
				if _, err := tx.Exec(ctx, `INSERT INTO incentive_ledger (id, person_id, org_id, rule, points, source_kind, source_id, day, created_at)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.id, pid, s.commA.ID, r.rule, r.points, r.kind, store.NewID(), s.today.String(), time.Now().UTC()); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}

		// Only a lead sees the action, only on the award.
		if body := s.get("worker", "zh", path); strings.Contains(body, "/incentives/reversals") {
			t.Error("a worker is offered the reversal")
		}
		body := s.get("lead", "zh", path)
		if !strings.Contains(body, `data-testid="reverse-`+award+`"`) || strings.Contains(body, `data-testid="reverse-`+redeemed+`"`) {
			t.Fatalf("the lead's page: want the reversal on the award only\n%s", excerpt(body))
		}
		if status, _, _ := s.do("worker", "zh", "POST", path+"/reversals", url.Values{"row_id": {award}, "reason": {"录错"}}); status != http.StatusForbidden {
			t.Errorf("a worker's reversal: %d, want 403", status)
		}
		unknown := "/persons/00000000-0000-7000-8000-000000000009/incentives"
		stOut, _, _ := s.do("leadb", "zh", "POST", path+"/reversals", url.Values{"row_id": {award}, "reason": {"录错"}})
		stUnknown, _, _ := s.do("leadb", "zh", "POST", unknown+"/reversals", url.Values{"row_id": {award}, "reason": {"录错"}})
		if stOut != stUnknown || stOut != http.StatusNotFound {
			t.Fatalf("reversal from outside the subtree: %d, unknown person: %d; want both 404", stOut, stUnknown)
		}

		// The reason is required; a long one is kept; in that row's form only.
		s.refusedBoth("lead", path+"/reversals", url.Values{"row_id": {award}, "reason": {""}},
			map[string]string{"reason": "冲正原因"}, map[string]string{"reason": "reason for the reversal"})
		long := strings.Repeat("错", casework.MaxReason+1)
		s.refusedBoth("lead", path+"/reversals", url.Values{"row_id": {award}, "reason": {long}},
			map[string]string{"reason": "1000"}, map[string]string{"reason": "1000"}, long)
		// A redemption row cannot be reversed.
		status, _, body := s.do("lead", "zh", "POST", path+"/reversals", url.Values{"row_id": {redeemed}, "reason": {"录错"}})
		if status != http.StatusUnprocessableEntity || !strings.Contains(body, "只能冲正获得积分的记录") {
			t.Fatalf("reversing a redemption: %d\n%s", status, excerpt(body))
		}
		if n := s.auditCount("incentive.reverse", pid); n != 0 {
			t.Fatalf("refused reversals wrote %d audit rows", n)
		}

		if loc := s.post("lead", path+"/reversals", url.Values{"row_id": {award}, "reason": {"检测记错了人"}}); !strings.HasPrefix(loc, path+"?flash=incentive_reversed") {
			t.Fatalf("reversal redirected to %q", loc)
		}
		if n := s.auditCount("incentive.reverse", pid); n != 1 {
			t.Fatalf("reversal audited %d times, want 1", n)
		}
		acc := storetest.Must(db.IncentiveAccountOf(ctx, s.sys, pid))
		if acc.Balance != -5 || len(acc.Rows) != 3 || acc.Rows[0].Rule != casework.AwardReversal || acc.Rows[0].Points != -15 || acc.Rows[0].ApprovedBy != s.users["lead"] {
			t.Fatalf("after the reversal: balance %d, rows %+v", acc.Balance, acc.Rows)
		}
		body = s.get("lead", "en", path)
		if strings.Contains(body, `data-testid="reverse-`) {
			t.Errorf("a reversal is still offered after the award was reversed (or on the reversal row)")
		}
		if !strings.Contains(body, "检测记错了人") || !strings.Contains(body, "-15") {
			t.Errorf("the reversal row does not show its reason and points:\n%s", excerpt(body))
		}
		// Twice: refused in words, nothing more written.
		status, _, body = s.do("lead", "zh", "POST", path+"/reversals", url.Values{"row_id": {award}, "reason": {"再冲一次"}})
		if status != http.StatusUnprocessableEntity || !strings.Contains(body, "这条记录已冲正") {
			t.Fatalf("second reversal: %d\n%s", status, excerpt(body))
		}
		if acc := storetest.Must(db.IncentiveAccountOf(ctx, s.sys, pid)); len(acc.Rows) != 3 {
			t.Fatalf("a second reversal wrote a row: %d rows", len(acc.Rows))
		}
	})
}
