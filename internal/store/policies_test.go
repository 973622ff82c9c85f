package store_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// policyWorld is province → city → county → streets A and B, with a
// community under each street, and actors granted at those nodes.
type policyWorld struct {
	prov, county, streetA, streetB, commA, commB *casework.Org
	sys                                          *casework.Actor
}

func newPolicyWorld(t *testing.T, db *store.DB) *policyWorld {
	sys := casework.SystemActor("test")
	mk := func(parent *casework.Org, kind casework.OrgKind, name, code string) *casework.Org {
		in := casework.OrgInput{Kind: kind, Name: name, AreaCode: code}
		if parent != nil {
			in.ParentID = parent.ID
		}
		return storetest.Must(db.CreateOrg(ctx, sys, in))
	}
	w := &policyWorld{sys: sys}
	w.prov = mk(nil, casework.KindProvince, "省", "")
	w.county = mk(mk(w.prov, casework.KindCity, "市", ""), casework.KindCounty, "区", "")
	w.streetA = mk(w.county, casework.KindTownship, "甲街道", "")
	w.streetB = mk(w.county, casework.KindTownship, "乙街道", "")
	w.commA = mk(w.streetA, casework.KindCommunity, "甲社区", "")
	w.commB = mk(w.streetB, casework.KindCommunity, "乙社区", "")
	return w
}

func actorAt(role casework.Role, org *casework.Org) *casework.Actor {
	return &casework.Actor{UserID: "u-" + string(role) + "-" + org.ID, Username: string(role), Name: string(role),
		Grants: []casework.Grant{{Role: role, OrgID: org.ID, OrgPath: org.Path, OrgName: org.Name}}}
}

func version(date casework.Date, settings map[string]string) casework.PolicyVersionInput {
	return casework.PolicyVersionInput{EffectiveFrom: date, Settings: settings, Note: "测试依据"}
}

// want checks one setting of the effective policy: its value and the
// version (or "national") that produced it.
func wantSetting(t *testing.T, p *casework.EffectivePolicy, key, value, ref string) {
	t.Helper()
	r, ok := p.Get(key)
	if !ok {
		t.Fatalf("no setting %s", key)
	}
	if r.Value.String() != value || r.Source.Ref() != ref {
		t.Errorf("%s on %s = %s from %s, want %s from %s", key, p.Date, r.Value, r.Source.Ref(), value, ref)
	}
}

// 2026-03-01 12:00 in Asia/Shanghai.
var policyStart = time.Date(2026, 3, 1, 4, 0, 0, 0, time.UTC)

func TestPolicyInheritance(t *testing.T) {
	storetest.EachWithClock(t, policyStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newPolicyWorld(t, db)
		d := casework.MustParseDate
		office := actorAt(casework.RoleOffice, w.county)
		lead := actorAt(casework.RoleLead, w.streetA)
		pv := storetest.Must(db.CreatePolicyVersion(ctx, w.sys, w.prov.ID, version(d("2026-03-02"), map[string]string{"checkin.window": "07:00-21:00"})))
		cv := storetest.Must(db.CreatePolicyVersion(ctx, office, w.county.ID, version(d("2026-03-02"), map[string]string{"checkin.accuracy_m": "100"})))

		// The community inherits the province's window and the county's accuracy.
		p := storetest.Must(db.EffectivePolicy(ctx, lead, w.commA.ID, d("2026-03-02")))
		wantSetting(t, p, "checkin.window", "07:00-21:00", pv.ID)
		wantSetting(t, p, "checkin.accuracy_m", "100", cv.ID)
		wantSetting(t, p, "checkin.selfie", "true", "national")
		if r, _ := p.Get("checkin.accuracy_m"); r.Source.OrgName != "区" || r.Source.EffectiveFrom != d("2026-03-02") {
			t.Errorf("provenance of accuracy = %+v", r.Source)
		}
		// The county itself: province's window, its own accuracy.
		p = storetest.Must(db.EffectivePolicy(ctx, office, w.county.ID, d("2026-03-02")))
		wantSetting(t, p, "checkin.window", "07:00-21:00", pv.ID)
		wantSetting(t, p, "checkin.accuracy_m", "100", cv.ID)

		// A child override wins over the parent's, for that setting only.
		sv := storetest.Must(db.CreatePolicyVersion(ctx, lead, w.streetA.ID, version(d("2026-03-03"), map[string]string{"checkin.accuracy_m": "50"})))
		p = storetest.Must(db.EffectivePolicy(ctx, lead, w.commA.ID, d("2026-03-03")))
		wantSetting(t, p, "checkin.accuracy_m", "50", sv.ID)
		wantSetting(t, p, "checkin.window", "07:00-21:00", pv.ID)
		// … and the sibling street keeps the county's.
		p = storetest.Must(db.EffectivePolicy(ctx, office, w.commB.ID, d("2026-03-03")))
		wantSetting(t, p, "checkin.accuracy_m", "100", cv.ID)

		// Withdrawing a future version restores inheritance.
		if err := db.WithdrawPolicyVersion(ctx, lead, sv.ID, "定错了"); err != nil {
			t.Fatal(err)
		}
		p = storetest.Must(db.EffectivePolicy(ctx, lead, w.commA.ID, d("2026-03-03")))
		wantSetting(t, p, "checkin.accuracy_m", "100", cv.ID)

		// "inherit" at the community hands a setting back to its parents.
		mv := storetest.Must(db.CreatePolicyVersion(ctx, lead, w.commA.ID, version(d("2026-03-04"), map[string]string{"checkin.window": "08:00-20:00"})))
		storetest.Must(db.CreatePolicyVersion(ctx, lead, w.commA.ID, version(d("2026-03-06"), map[string]string{"checkin.window": "inherit"})))
		wantSetting(t, storetest.Must(db.EffectivePolicy(ctx, lead, w.commA.ID, d("2026-03-05"))), "checkin.window", "08:00-20:00", mv.ID)
		wantSetting(t, storetest.Must(db.EffectivePolicy(ctx, lead, w.commA.ID, d("2026-03-06"))), "checkin.window", "07:00-21:00", pv.ID)

		vs, today := must2(db.ListPolicyVersions(ctx, lead, w.commA.ID, store.PolicyVersionFilter{Inherited: true, Withdrawn: true}))
		if len(vs) != 5 || today != d("2026-03-01") {
			t.Errorf("inherited versions: %d (today %s), want 5 (province, county, street withdrawn, two at the community)", len(vs), today)
		}
	})
}

func TestPolicyEffectiveDates(t *testing.T) {
	// 2026-03-01 23:59 in Shanghai is 15:59 UTC; midnight comes at 16:00 UTC.
	storetest.EachWithClock(t, time.Date(2026, 3, 1, 15, 59, 0, 0, time.UTC), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newPolicyWorld(t, db)
		d := casework.MustParseDate
		office := actorAt(casework.RoleOffice, w.county)

		// Still 3/1 in Shanghai (though 3/1 in UTC too): 3/1 is today, refused.
		_, err := db.CreatePolicyVersion(ctx, office, w.county.ID, version(d("2026-03-01"), map[string]string{"checkin.accuracy_m": "100"}))
		if casework.ErrorField(err) != "effective_from" || !strings.Contains(casework.ErrorMessage(err, "en"), "tomorrow (2026-03-02)") {
			t.Fatalf("a version effective today: %v", err)
		}
		v := storetest.Must(db.CreatePolicyVersion(ctx, office, w.county.ID, version(d("2026-03-02"), map[string]string{"checkin.accuracy_m": "100"})))

		// A version effective tomorrow does not change today's resolution.
		wantSetting(t, storetest.Must(db.EffectivePolicy(ctx, office, w.commA.ID, casework.Date{})), "checkin.accuracy_m", "200", "national")
		wantSetting(t, storetest.Must(db.EffectivePolicyAt(ctx, office, w.commA.ID, clock.T)), "checkin.accuracy_m", "200", "national")
		// The instant of local midnight is the next day's policy.
		wantSetting(t, storetest.Must(db.EffectivePolicyAt(ctx, office, w.commA.ID, time.Date(2026, 3, 1, 16, 0, 0, 0, time.UTC))),
			"checkin.accuracy_m", "100", v.ID)

		// Before midnight the version can still be edited.
		edit := version(d("2026-03-02"), map[string]string{"checkin.accuracy_m": "120"})
		if _, err := db.UpdatePolicyVersion(ctx, office, v.ID, edit); err != nil {
			t.Fatalf("edit a scheduled version: %v", err)
		}
		// Midnight in Shanghai: now it is in force and immutable.
		clock.T = time.Date(2026, 3, 1, 16, 0, 0, 0, time.UTC)
		wantSetting(t, storetest.Must(db.EffectivePolicy(ctx, office, w.commA.ID, casework.Date{})), "checkin.accuracy_m", "120", v.ID)
		if _, err := db.UpdatePolicyVersion(ctx, office, v.ID, version(d("2026-03-05"), map[string]string{"checkin.accuracy_m": "80"})); !casework.IsCode(err, casework.ECONFLICT) {
			t.Errorf("edit an effective version: %v, want conflict", err)
		}
		if err := db.WithdrawPolicyVersion(ctx, office, v.ID, "改主意"); !casework.IsCode(err, casework.ECONFLICT) {
			t.Errorf("withdraw an effective version: %v, want conflict", err)
		}
		// 3/2 is now today: a new version for 3/2 is refused, 3/3 accepted.
		if _, err := db.CreatePolicyVersion(ctx, office, w.county.ID, version(d("2026-03-02"), map[string]string{"checkin.selfie": "false"})); casework.ErrorField(err) != "effective_from" {
			t.Errorf("a version effective today after midnight: %v", err)
		}
		// Two versions at one org: the later effective date wins from its date on.
		later := storetest.Must(db.CreatePolicyVersion(ctx, office, w.county.ID, version(d("2026-03-10"), map[string]string{"checkin.accuracy_m": "60"})))
		wantSetting(t, storetest.Must(db.EffectivePolicy(ctx, office, w.commA.ID, d("2026-03-09"))), "checkin.accuracy_m", "120", v.ID)
		wantSetting(t, storetest.Must(db.EffectivePolicy(ctx, office, w.commA.ID, d("2026-03-10"))), "checkin.accuracy_m", "60", later.ID)
		// A second live version on the same date at the same org is refused.
		if _, err := db.CreatePolicyVersion(ctx, office, w.county.ID, version(d("2026-03-10"), map[string]string{"checkin.selfie": "false"})); casework.ErrorField(err) != "effective_from" {
			t.Errorf("a second version on one date: %v", err)
		}
		// Once withdrawn, the date is free again.
		if err := db.WithdrawPolicyVersion(ctx, office, later.ID, "合并到新版本"); err != nil {
			t.Fatal(err)
		}
		if err := db.WithdrawPolicyVersion(ctx, office, later.ID, "再撤一次"); !casework.IsCode(err, casework.ECONFLICT) {
			t.Errorf("withdraw twice: %v", err)
		}
		storetest.Must(db.CreatePolicyVersion(ctx, office, w.county.ID, version(d("2026-03-10"), map[string]string{"checkin.selfie": "false"})))
	})
}

func TestPolicyValidationWritesNothing(t *testing.T) {
	storetest.EachWithClock(t, policyStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newPolicyWorld(t, db)
		office := actorAt(casework.RoleOffice, w.county)
		tomorrow := casework.MustParseDate("2026-03-02")
		tests := []struct {
			name, field string
			settings    map[string]string
			msg         string
		}{
			{"window end before start", "checkin.window", map[string]string{"checkin.window": "21:00-07:00"}, "must be after the start"},
			{"leave threshold above the law", "leave.threshold_days", map[string]string{"leave.threshold_days": "4"}, "R8"},
			{"unknown setting", "checkin.colour", map[string]string{"checkin.colour": "red"}, "unknown setting"},
			{"wrong type", "checkin.accuracy_m", map[string]string{"checkin.accuracy_m": "near"}, "whole number"},
			{"one bad among good", "checkin.selfie", map[string]string{"checkin.accuracy_m": "100", "checkin.selfie": "sometimes"}, "true or false"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := db.CreatePolicyVersion(ctx, office, w.county.ID, version(tomorrow, tt.settings))
				var fe casework.FieldErrors
				if !casework.IsCode(err, casework.EINVALID) || !errors.As(err, &fe) || !strings.Contains(fe.Map("en")[tt.field], tt.msg) {
					t.Fatalf("got %v, want an error on %s saying %q", err, tt.field, tt.msg)
				}
				if _, err := db.PreviewPolicyVersion(ctx, office, w.county.ID, version(tomorrow, tt.settings)); casework.ErrorField(err) == "" {
					t.Errorf("preview accepted it: %v", err)
				}
			})
		}
		vs, _ := must2(db.ListPolicyVersions(ctx, office, w.county.ID, store.PolicyVersionFilter{Withdrawn: true}))
		if len(vs) != 0 {
			t.Fatalf("refused input wrote %d versions", len(vs))
		}
		// The leave message cites the article of R8 in Chinese too, once.
		_, err := db.CreatePolicyVersion(ctx, office, w.county.ID, version(tomorrow, map[string]string{"leave.threshold_days": "4"}))
		if msg := casework.ErrorMessage(err, "zh"); strings.Count(msg, "《戒毒条例》第十九条") != 1 || strings.Contains(msg, "R8") || !strings.Contains(msg, "不得高于3天") {
			t.Errorf("zh message %q", msg)
		}
		// Stricter than the law is allowed.
		storetest.Must(db.CreatePolicyVersion(ctx, office, w.county.ID, version(tomorrow, map[string]string{"leave.threshold_days": "2"})))
	})
}

func TestPolicyPreview(t *testing.T) {
	storetest.EachWithClock(t, policyStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newPolicyWorld(t, db)
		d := casework.MustParseDate
		lead := actorAt(casework.RoleLead, w.streetA)
		cv := storetest.Must(db.CreatePolicyVersion(ctx, w.sys, w.county.ID, version(d("2026-03-02"), map[string]string{"checkin.accuracy_m": "100"})))
		pv := storetest.Must(db.PreviewPolicyVersion(ctx, lead, w.streetA.ID, version(d("2026-03-05"),
			map[string]string{"checkin.accuracy_m": "80", "checkin.selfie": "true", "checkin.window": "07:00-21:00"})))
		if pv.Date != d("2026-03-05") || len(pv.Changes) != 3 {
			t.Fatalf("preview = %+v", pv)
		}
		byKey := map[string]casework.PolicyChange{}
		for _, c := range pv.Changes {
			byKey[c.After.Key] = c
		}
		acc := byKey["checkin.accuracy_m"]
		if !acc.Changed || acc.Before.Value.String() != "100" || acc.Before.Source.Ref() != cv.ID || acc.After.Value.String() != "80" || acc.After.Source.Ref() != "preview" {
			t.Errorf("accuracy change = %+v", acc)
		}
		if byKey["checkin.selfie"].Changed {
			t.Error("selfie true → true reported as a change")
		}
		if !byKey["checkin.window"].Changed {
			t.Error("the window change is missing")
		}
		vs, _ := must2(db.ListPolicyVersions(ctx, lead, w.streetA.ID, store.PolicyVersionFilter{}))
		if len(vs) != 0 {
			t.Fatal("preview wrote a version")
		}
	})
}

func TestPolicyAccess(t *testing.T) {
	storetest.EachWithClock(t, policyStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newPolicyWorld(t, db)
		d := casework.MustParseDate
		in := version(d("2026-03-02"), map[string]string{"checkin.selfie": "false"})
		worker := actorAt(casework.RoleWorker, w.commA)
		lead := actorAt(casework.RoleLead, w.streetA)
		auditor := actorAt(casework.RoleAuditor, w.streetA)
		admin := actorAt(casework.RoleAdmin, w.streetA)
		bVersion := storetest.Must(db.CreatePolicyVersion(ctx, actorAt(casework.RoleLead, w.streetB), w.commB.ID, in))

		// Worker: views, cannot edit.
		storetest.Must(db.EffectivePolicy(ctx, worker, w.commA.ID, casework.Date{}))
		if _, err := db.CreatePolicyVersion(ctx, worker, w.commA.ID, in); !casework.IsCode(err, casework.EFORBIDDEN) {
			t.Errorf("worker creates: %v, want forbidden", err)
		}
		// Viewing above the actor's subtree: not found.
		if _, err := db.EffectivePolicy(ctx, worker, w.streetA.ID, casework.Date{}); !casework.IsCode(err, casework.ENOTFOUND) {
			t.Errorf("worker views its street: %v, want not found", err)
		}
		// Lead: edits its own subtree, not a sibling's (not found).
		own := storetest.Must(db.CreatePolicyVersion(ctx, lead, w.commA.ID, in))
		if _, err := db.CreatePolicyVersion(ctx, lead, w.commB.ID, in); !casework.IsCode(err, casework.ENOTFOUND) {
			t.Errorf("lead creates in a sibling street: %v, want not found", err)
		}
		if _, err := db.CreatePolicyVersion(ctx, lead, w.county.ID, in); !casework.IsCode(err, casework.ENOTFOUND) {
			t.Errorf("lead creates at its county: %v, want not found", err)
		}
		if err := db.WithdrawPolicyVersion(ctx, lead, bVersion.ID, "越权"); !casework.IsCode(err, casework.ENOTFOUND) {
			t.Errorf("lead withdraws a sibling's version: %v, want not found", err)
		}
		if _, err := db.GetPolicyVersion(ctx, lead, bVersion.ID); !casework.IsCode(err, casework.ENOTFOUND) {
			t.Errorf("lead reads a sibling's version: %v, want not found", err)
		}
		if err := db.WithdrawPolicyVersion(ctx, worker, own.ID, "无权"); !casework.IsCode(err, casework.EFORBIDDEN) {
			t.Errorf("worker withdraws: %v, want forbidden", err)
		}
		if _, err := db.EffectivePolicy(ctx, auditor, w.commA.ID, casework.Date{}); !casework.IsCode(err, casework.EFORBIDDEN) {
			t.Errorf("auditor views policy: %v, want forbidden", err)
		}
		storetest.Must(db.EffectivePolicy(ctx, admin, w.commA.ID, casework.Date{}))
		if _, err := db.CreatePolicyVersion(ctx, admin, w.commA.ID, version(d("2026-03-03"), map[string]string{"checkin.selfie": "true"})); !casework.IsCode(err, casework.EFORBIDDEN) {
			t.Errorf("admin creates: %v, want forbidden", err)
		}
		// The tree: the lead sees its street and community with their versions.
		nodes := storetest.Must(db.PolicyTree(ctx, lead))
		if len(nodes) != 2 || nodes[0].Org.ID != w.streetA.ID || nodes[1].Org.ID != w.commA.ID || len(nodes[1].Versions) != 1 || nodes[1].Versions[0].ID != own.ID {
			t.Errorf("policy tree of the lead: %+v", nodes)
		}
		// Create and withdraw are audited.
		if err := db.WithdrawPolicyVersion(ctx, lead, own.ID, "写错了"); err != nil {
			t.Fatal(err)
		}
		rows, _ := must2(db.ListAudit(ctx, w.sys, store.AuditFilter{Action: "policy.", TargetID: own.ID}))
		var actions []string
		for _, r := range rows {
			actions = append(actions, r.Action)
		}
		if got := strings.Join(actions, ","); !strings.Contains(got, "policy.create") || !strings.Contains(got, "policy.withdraw") {
			t.Errorf("audit of the version: %v", actions)
		}
	})
}

// must2 is storetest.Must for calls that return two values.
func must2[A, B any](a A, b B, err error) (A, B) {
	if err != nil {
		panic(err)
	}
	return a, b
}
