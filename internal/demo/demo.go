// Package demo loads the demo data set: an org tree for a district of
// Sanya with a street, two communities and a factory compound like the one
// in the seed story (fictional names below the district), and one account
// per role. Loading is idempotent: a marker row makes it happen once.
package demo

import (
	"context"
	"fmt"

	"kangfu/internal/auth"
	"kangfu/internal/casework"
	"kangfu/internal/store"
)

// Password is the password of every demo account.
const Password = "kangfu-demo"

// Account is a demo account as printed at start.
type Account struct {
	Username, Role, Org string
}

// Tree holds the ids of the demo org nodes.
type Tree struct {
	Province, City, District, Street, Community, Factory, Community2 *casework.Org
}

// Result says what Load did.
type Result struct {
	Loaded   bool // false when the data was there already
	Persons  int  // demo person files created by this call (persons.go)
	Tree     Tree
	Accounts []Account
}

// Load creates the demo data unless it was loaded before.
func Load(ctx context.Context, db *store.DB) (*Result, error) {
	first, err := db.Mark(ctx, "demo:spine")
	if err != nil {
		return nil, err
	}
	res := &Result{Loaded: first, Accounts: accounts()}
	if first {
		if err := loadSpine(ctx, db, res); err != nil {
			return nil, err
		}
	}
	// The caseload has its own marker: a database loaded before it existed
	// gets it too.
	if res.Persons, err = loadPersons(ctx, db); err != nil {
		return nil, err
	}
	if err := loadLeave(ctx, db); err != nil {
		return nil, err
	}
	if err := loadDraws(ctx, db); err != nil {
		return nil, err
	}
	if err := loadViolations(ctx, db); err != nil {
		return nil, err
	}
	if err := loadTransferOverdue(ctx, db); err != nil { // transfer_overdue.go
		return nil, err
	}
	if err := loadPsych(ctx, db); err != nil { // psych.go
		return nil, err
	}
	if err := loadRelapse(ctx, db); err != nil { // relapse.go (issue 10)
		return nil, err
	}
	if err := loadHelp(ctx, db); err != nil { // help.go
		return nil, err
	}
	if err := loadVisits(ctx, db); err != nil { // visits.go
		return nil, err
	}
	if err := loadSummary(ctx, db); err != nil { // summary.go
		return nil, err
	}
	if err := loadRisk(ctx, db); err != nil { // risk.go (issue 13)
		return nil, err
	}
	if err := loadRewards(ctx, db); err != nil { // rewards.go (issue 14)
		return nil, err
	}
	// The demo goes live today: the nightly detection judges check-ins from
	// today on, not every day since the demo persons reported (they had no
	// app then).
	today := casework.DateOf(db.Now(), casework.LoadLocation(casework.DefaultTimeZone))
	if _, err := db.StartDetectionFrom(ctx, casework.SystemActor("demo"), today); err != nil {
		return nil, err
	}
	return res, nil
}

func loadSpine(ctx context.Context, db *store.DB, res *Result) error {
	var err error
	sys := casework.SystemActor("demo")
	mk := func(parent *casework.Org, kind casework.OrgKind, name, code, fence string) (*casework.Org, error) {
		in := casework.OrgInput{Kind: kind, Name: name, AreaCode: code, Geofence: fence}
		if parent != nil {
			in.ParentID = parent.ID
		}
		o, err := db.CreateOrg(ctx, sys, in)
		if err != nil {
			return nil, fmt.Errorf("demo org %s: %w", name, err)
		}
		return o, nil
	}
	t := &res.Tree
	steps := []struct {
		dst               **casework.Org
		parent            **casework.Org
		kind              casework.OrgKind
		name, code, fence string
	}{
		{&t.Province, nil, casework.KindProvince, "海南省", "460000000000", ""},
		{&t.City, &t.Province, casework.KindCity, "三亚市", "460200000000", ""},
		{&t.District, &t.City, casework.KindCounty, "吉阳区", "460203000000",
			`{"type":"Polygon","coordinates":[[[109.45,18.22],[109.62,18.22],[109.62,18.36],[109.45,18.36],[109.45,18.22]]]}`},
		{&t.Street, &t.District, casework.KindTownship, "椰林街道（示例）", "", ""},
		{&t.Community, &t.Street, casework.KindCommunity, "六湾社区（示例）", "", `{"type":"circle","lat":18.285,"lng":109.535,"radius_m":1200}`},
		{&t.Factory, &t.Street, casework.KindCommunity, factoryName, "", `{"type":"circle","lat":18.301,"lng":109.552,"radius_m":900}`},
		{&t.Community2, &t.Street, casework.KindCommunity, "海湾社区（示例）", "", ""},
	}
	for _, s := range steps {
		var parent *casework.Org
		if s.parent != nil {
			parent = *s.parent
		}
		if *s.dst, err = mk(parent, s.kind, s.name, s.code, s.fence); err != nil {
			return err
		}
	}
	hash, err := auth.HashPassword(ctx, Password)
	if err != nil {
		return err
	}
	at := map[string]*casework.Org{"city": t.City, "district": t.District, "street": t.Street, "factory": t.Factory, "community2": t.Community2}
	people := []struct {
		username, name, sex, role, org string
	}{
		{"admin", "系统管理员", "", "admin", "city"},
		{"office", "林主任（区禁毒办）", "M", "office", "district"},
		{"lead", "王组长（街道）", "M", "lead", "street"},
		{"worker", "陈专干（厂区）", "F", "worker", "factory"},
		{"police", "李警官（派出所）", "M", "police", "street"},
		{"counsellor", "赵老师（心理）", "F", "counsellor", "street"},
		{"auditor", "周审计", "F", "auditor", "district"},
		{"worker2", "黄社工（海湾社区）", "M", "worker", "community2"},
	}
	for _, p := range people {
		org := at[p.org]
		u, err := db.CreateUser(ctx, sys, casework.UserInput{Username: p.username, DisplayName: p.name, OrgID: org.ID, Sex: p.sex, Password: Password}, hash, false)
		if err != nil {
			return fmt.Errorf("demo user %s: %w", p.username, err)
		}
		if _, err := db.GrantRole(ctx, sys, u.ID, casework.Role(p.role), org.ID); err != nil {
			return fmt.Errorf("demo grant %s: %w", p.username, err)
		}
		// Demo accounts only: no second factor, so anyone can try the demo.
		if err := db.SetTOTPExempt(ctx, sys, u.ID, true); err != nil {
			return err
		}
	}
	return nil
}

func accounts() []Account {
	return []Account{
		{"admin", "admin 系统管理员", "三亚市"},
		{"office", "office 禁毒办", "吉阳区"},
		{"lead", "lead 街道负责人", "椰林街道（示例）"},
		{"worker", "worker 禁毒专干", "安椰厂区（示例工厂社区）"},
		{"police", "police 社区民警", "椰林街道（示例）"},
		{"counsellor", "counsellor 心理/医务", "椰林街道（示例）"},
		{"auditor", "auditor 审计员", "吉阳区"},
		{"worker2", "worker 禁毒社工", "海湾社区（示例）"},
	}
}

// factoryName is the demo's factory compound, the seed story's 厂区.
const factoryName = "安椰厂区（示例工厂社区）"
