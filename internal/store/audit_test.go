package store_test

import (
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// rawDB is a second handle on a test database that bypasses the store, as
// someone with write access to the database files would.
type rawDB struct {
	*sql.DB
	engine string
}

func openRaw(t *testing.T, e storetest.Engine) rawDB {
	t.Helper()
	driver, dsn := "sqlite", "file:"+e.DSN
	if e.Name == "postgres" {
		driver, dsn = "pgx", e.DSN // the DSN's search_path selects the test's schema
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return rawDB{db, e.Name}
}

// exec runs a statement written with ? placeholders.
func (r rawDB) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if r.engine == "postgres" {
		for i := 1; strings.Contains(q, "?"); i++ {
			q = strings.Replace(q, "?", "$"+strconv.Itoa(i), 1)
		}
	}
	res, err := r.ExecContext(t.Context(), q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		t.Fatalf("%s: no row changed", q)
	}
}

// eachRaw is storetest.Each with a raw handle on the same database.
func eachRaw(t *testing.T, fn func(t *testing.T, db *store.DB, raw rawDB)) {
	t.Helper()
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			db := storetest.Open(t, e, nil)
			fn(t, db, openRaw(t, e))
		})
	}
}

// auditRows writes audit rows through ordinary store calls and returns how
// many: six orgs, then two users each with a grant.
func auditRows(t *testing.T, db *store.DB) (tree, int64) {
	t.Helper()
	tr := buildTree(t, db)
	sys := casework.SystemActor("test")
	for i, org := range []*casework.Org{tr.commA, tr.commB} {
		u := storetest.Must(db.CreateUser(ctx, sys, casework.UserInput{Username: fmt.Sprintf("w%d", i), OrgID: org.ID, Password: "long-enough-pw"}, "x", false))
		storetest.Must(db.GrantRole(ctx, sys, u.ID, casework.RoleWorker, org.ID))
	}
	return tr, 6 + 2*2
}

func TestVerifyAuditIntactChain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		if n, err := db.VerifyAudit(ctx); n != 0 || err != nil {
			t.Fatalf("empty log: VerifyAudit = %d, %v; want 0, nil", n, err)
		}
		_, want := auditRows(t, db)
		if n, err := db.VerifyAudit(ctx); n != want || err != nil {
			t.Fatalf("VerifyAudit = %d, %v; want %d, nil", n, err, want)
		}
		_, total, err := db.ListAudit(ctx, casework.SystemActor("test"), store.AuditFilter{})
		if err != nil || int64(total) != want {
			t.Fatalf("ListAudit total = %d, %v; want %d", total, err, want)
		}
	})
}

func TestVerifyAuditFindsTampering(t *testing.T) {
	const mid = 5 // of 10 rows
	tests := []struct {
		name    string
		tamper  func(t *testing.T, raw rawDB, last int64)
		wantSeq func(last int64) int64
		reason  string // part of the break's reason
	}{
		{
			name: "column changed",
			tamper: func(t *testing.T, raw rawDB, last int64) {
				raw.exec(t, `UPDATE audit_log SET reason = 'nothing happened' WHERE seq = ?`, mid)
			},
			wantSeq: func(int64) int64 { return mid }, reason: "changed",
		},
		{
			name: "actor changed",
			tamper: func(t *testing.T, raw rawDB, last int64) {
				raw.exec(t, `UPDATE audit_log SET actor_name = 'someone else' WHERE seq = ?`, mid)
			},
			wantSeq: func(int64) int64 { return mid }, reason: "changed",
		},
		{
			// org_path decides who may read the rows of a deleted org.
			name: "org path changed",
			tamper: func(t *testing.T, raw rawDB, last int64) {
				raw.exec(t, `UPDATE audit_log SET org_path = '/elsewhere/' WHERE seq = ?`, mid)
			},
			wantSeq: func(int64) int64 { return mid }, reason: "changed",
		},
		{
			name: "middle row deleted",
			tamper: func(t *testing.T, raw rawDB, last int64) {
				raw.exec(t, `DELETE FROM audit_log WHERE seq = ?`, mid)
			},
			wantSeq: func(int64) int64 { return mid }, reason: "missing",
		},
		{
			name: "middle row deleted and the rest renumbered",
			tamper: func(t *testing.T, raw rawDB, last int64) {
				raw.exec(t, `DELETE FROM audit_log WHERE seq = ?`, mid)
				shiftSeq(t, raw, mid+1, -1)
				raw.exec(t, `UPDATE audit_head SET seq = seq - 1 WHERE id = 1`)
			},
			wantSeq: func(int64) int64 { return mid }, reason: "link",
		},
		{
			name: "last row deleted",
			tamper: func(t *testing.T, raw rawDB, last int64) {
				raw.exec(t, `DELETE FROM audit_log WHERE seq = ?`, last)
			},
			wantSeq: func(last int64) int64 { return last }, reason: "removed from the end",
		},
		{
			name: "last row deleted and the head moved back",
			tamper: func(t *testing.T, raw rawDB, last int64) {
				raw.exec(t, `DELETE FROM audit_log WHERE seq = ?`, last)
				raw.exec(t, `UPDATE audit_head SET seq = seq - 1 WHERE id = 1`)
			},
			wantSeq: func(last int64) int64 { return last }, reason: "removed from the end",
		},
		{
			name: "forged row inserted in the middle",
			tamper: func(t *testing.T, raw rawDB, last int64) {
				shiftSeq(t, raw, mid, +1)
				// A copy of the row before, linked to it, under the free seq.
				raw.exec(t, `INSERT INTO audit_log (seq, id, at, actor_id, actor_name, ip, action, target_type, target_id, org_id, reason, detail, prev_hash, hash)
					SELECT ?, 'forged', at, actor_id, actor_name, ip, action, target_type, target_id, org_id, 'forged', detail, hash, hash
					FROM audit_log WHERE seq = ?`, mid, mid-1)
				raw.exec(t, `UPDATE audit_head SET seq = seq + 1 WHERE id = 1`)
			},
			wantSeq: func(int64) int64 { return mid }, reason: "changed",
		},
		{
			name: "forged row appended",
			tamper: func(t *testing.T, raw rawDB, last int64) {
				raw.exec(t, `INSERT INTO audit_log (seq, id, at, actor_id, actor_name, ip, action, target_type, target_id, org_id, reason, detail, prev_hash, hash)
					SELECT ?, 'forged', at, actor_id, actor_name, ip, action, target_type, target_id, org_id, 'forged', detail, hash, hash
					FROM audit_log WHERE seq = ?`, last+1, last)
				raw.exec(t, `UPDATE audit_head SET seq = seq + 1, hash = (SELECT hash FROM audit_log WHERE seq = ?) WHERE id = 1`, last+1)
			},
			wantSeq: func(last int64) int64 { return last + 1 }, reason: "changed",
		},
		{
			name: "two rows swapped",
			tamper: func(t *testing.T, raw rawDB, last int64) {
				raw.exec(t, `UPDATE audit_log SET seq = ? WHERE seq = ?`, 1000, mid)
				raw.exec(t, `UPDATE audit_log SET seq = ? WHERE seq = ?`, mid, mid+1)
				raw.exec(t, `UPDATE audit_log SET seq = ? WHERE seq = ?`, mid+1, 1000)
			},
			wantSeq: func(int64) int64 { return mid }, reason: "link",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eachRaw(t, func(t *testing.T, db *store.DB, raw rawDB) {
				_, last := auditRows(t, db)
				if _, err := db.VerifyAudit(ctx); err != nil {
					t.Fatalf("before tampering: %v", err)
				}
				tt.tamper(t, raw, last)
				_, err := db.VerifyAudit(ctx)
				var brk *store.AuditBreak
				if !errors.As(err, &brk) {
					t.Fatalf("VerifyAudit after tampering = %v, want an *AuditBreak", err)
				}
				if want := tt.wantSeq(last); brk.Seq != want || !strings.Contains(brk.Reason, tt.reason) {
					t.Fatalf("break at %d (%q), want at %d with a reason about %q", brk.Seq, brk.Reason, want, tt.reason)
				}
			})
		})
	}
}

// shiftSeq moves the audit rows from seq on by delta, in two steps so no
// engine trips over the primary key mid-statement.
func shiftSeq(t *testing.T, raw rawDB, from, delta int64) {
	t.Helper()
	const far = 1_000_000
	raw.exec(t, `UPDATE audit_log SET seq = seq + ? WHERE seq >= ?`, far, from)
	raw.exec(t, `UPDATE audit_log SET seq = seq - ? WHERE seq >= ?`, far-delta, far)
}

func TestListAuditScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		tr, _ := auditRows(t, db)
		// A failed sign-in with an unknown name is tied to no org.
		if _, err := db.RecordLoginFailure(ctx, "", "ghost", "192.0.2.9", "unknown user", 5, 0); err != nil {
			t.Fatal(err)
		}
		orgsSeen := func(actor *casework.Actor) (map[string]bool, int) {
			rows, total, err := db.ListAudit(ctx, actor, store.AuditFilter{Limit: 500})
			if err != nil {
				t.Fatal(err)
			}
			if total != len(rows) {
				t.Fatalf("total %d but %d rows", total, len(rows))
			}
			seen := map[string]bool{}
			for _, r := range rows {
				seen[r.OrgID] = true
			}
			return seen, total
		}
		tests := []struct {
			name      string
			actor     *casework.Actor
			see, miss []*casework.Org
			orgless   bool // sees rows tied to no org
			total     int
		}{
			{"auditor at a community", actorWith(casework.RoleAuditor, tr.commA),
				[]*casework.Org{tr.commA}, []*casework.Org{tr.commB, tr.street, tr.province}, false, 3},
			{"office at the street", actorWith(casework.RoleOffice, tr.street),
				[]*casework.Org{tr.street, tr.commA, tr.commB}, []*casework.Org{tr.county, tr.province}, false, 7},
			{"auditor at the city, not a root", actorWith(casework.RoleAuditor, tr.city),
				[]*casework.Org{tr.city, tr.commB}, []*casework.Org{tr.province}, false, 9},
			{"auditor at the root", actorWith(casework.RoleAuditor, tr.province),
				[]*casework.Org{tr.province, tr.commA}, nil, true, 11},
			{"system actor", casework.SystemActor("test"),
				[]*casework.Org{tr.province, tr.commA}, nil, true, 11},
			{"worker: no audit permission", actorWith(casework.RoleWorker, tr.commA),
				nil, []*casework.Org{tr.commA}, false, 0},
			{"admin: no audit permission", actorWith(casework.RoleAdmin, tr.province),
				nil, []*casework.Org{tr.province}, false, 0},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				seen, total := orgsSeen(tt.actor)
				for _, o := range tt.see {
					if !seen[o.ID] {
						t.Errorf("does not see rows of %s", o.Name)
					}
				}
				for _, o := range tt.miss {
					if seen[o.ID] {
						t.Errorf("sees rows of %s", o.Name)
					}
				}
				if seen[""] != tt.orgless {
					t.Errorf("sees rows tied to no org: %v, want %v", seen[""], tt.orgless)
				}
				if total != tt.total {
					t.Errorf("sees %d rows, want %d", total, tt.total)
				}
			})
		}
	})
}

// TestListAuditKeepsDeletedOrgRows: deleting an org must not hide the
// history written about it; an auditor at the root still reads it.
func TestListAuditKeepsDeletedOrgRows(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		tr := buildTree(t, db)
		sys := casework.SystemActor("test")
		gone := storetest.Must(db.CreateOrg(ctx, sys, casework.OrgInput{ParentID: tr.street.ID, Kind: casework.KindCommunity, Name: "建错的社区"}))
		if err := db.DeleteOrg(ctx, sys, gone.ID, "建错了"); err != nil {
			t.Fatal(err)
		}
		for _, actor := range []*casework.Actor{actorWith(casework.RoleAuditor, tr.province), sys} {
			rows, _, err := db.ListAudit(ctx, actor, store.AuditFilter{TargetID: gone.ID})
			if err != nil {
				t.Fatal(err)
			}
			var actions []string
			for _, r := range rows {
				actions = append(actions, r.Action)
			}
			if want := "[org.delete org.create]"; fmt.Sprint(actions) != want {
				t.Errorf("%s sees %v about the deleted org, want %s", actor.Username, actions, want)
			}
		}
	})
}

// TestListAuditNamesTargets: the audit log names what a row is about
// (issue 18 §8) — the person, masked to the family name for a reader who may
// not open the file (the auditor, R36), in full with a way in for one who
// may; users and orgs by name.
func TestListAuditNamesTargets(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := pfBuild(t, db)
		p := storetest.Must(db.CreatePerson(ctx, w.workerA, pfPerson(w.commA, "王小明", pfID("19900101", 7, true)), nil))
		if _, err := db.GetPerson(ctx, w.workerA, p.ID, ""); err != nil {
			t.Fatal(err)
		}
		// The office at the county may both audit and open files.
		w.office.Grants = append(w.office.Grants, casework.Grant{Role: casework.RoleAuditor, OrgID: w.county.ID, OrgPath: w.county.Path})
		tests := []struct {
			name    string
			actor   *casework.Actor
			want    string
			mayOpen bool
		}{
			{"auditor", w.auditor, "王**", false},
			{"office who is also auditor", w.office, "王小明", true},
		}
		for _, tt := range tests {
			rows, _, err := db.ListAudit(ctx, tt.actor, store.AuditFilter{Action: "person.read", TargetID: p.ID})
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) == 0 {
				t.Fatalf("%s: no row of the read", tt.name)
			}
			for _, r := range rows {
				if r.TargetName != tt.want || r.TargetOpen != tt.mayOpen {
					t.Errorf("%s: target %q (may open %v), want %q (%v)", tt.name, r.TargetName, r.TargetOpen, tt.want, tt.mayOpen)
				}
			}
		}
		rows, _, err := db.ListAudit(ctx, w.auditor, store.AuditFilter{Action: "user.create", Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		named := false
		for _, r := range rows {
			named = named || r.TargetName == "worker-a"
		}
		if !named {
			t.Errorf("user rows do not name the user: %+v", rows)
		}
	})
}
