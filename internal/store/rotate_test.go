package store_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
	"kangfu/internal/vault"
)

// idNumber makes a valid (fictional) ID number from a 17-character body.
func idNumber(body string) string { return body + string(casework.IDCheckChar(body)) }

// sealedValue is one sealed cell and the context it was sealed with.
type sealedValue struct {
	table, column, id, context, value string
}

// sealedValues reads every non-empty sealed value of the database.
func sealedValues(t *testing.T, db *store.DB) []sealedValue {
	t.Helper()
	personCtx := map[string]string{"id_number_enc": "id", "phone_enc": "phone", "household_addr_enc": "household",
		"residence_addr_enc": "residence", "contacts_enc": "contacts", "health_enc": "health", "drug_history_enc": "drug"}
	type col struct{ table, column string }
	cols := []col{{"users", "totp_secret"}, {"working_group", "phone_enc"}, {"corrections", "changes"}}
	for c := range personCtx {
		cols = append(cols, col{"persons", c})
	}
	var out []sealedValue
	err := db.Read(ctx, func(tx *store.Tx) error {
		for _, c := range cols {
			rows, err := tx.Query(ctx, `SELECT id, `+c.column+` FROM `+c.table+` WHERE `+c.column+` <> ''`)
			if err != nil {
				return err
			}
			for rows.Next() {
				v := sealedValue{table: c.table, column: c.column}
				if err := rows.Scan(&v.id, &v.value); err != nil {
					rows.Close()
					return err
				}
				switch c.table {
				case "persons":
					v.context = "person." + personCtx[c.column] + ":" + v.id
				case "users":
					v.context = "user.totp:" + v.id
				case "working_group":
					v.context = store.GroupPhoneContext(v.id)
				case "corrections":
					v.context = "correction:" + v.id
				}
				out = append(out, v)
			}
			rows.Close()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// plaintexts opens every sealed value and checks each names key want.
func plaintexts(t *testing.T, db *store.DB, want string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, v := range sealedValues(t, db) {
		if got := vault.KeyID(v.value); got != want {
			t.Errorf("%s.%s of %s is under key %q, want %q", v.table, v.column, v.id, got, want)
		}
		p, err := db.Vault().Open(v.value, v.context)
		if err != nil {
			t.Fatalf("open %s.%s of %s: %v", v.table, v.column, v.id, err)
		}
		m[v.table+"."+v.column+" "+v.id] = p
	}
	return m
}

// rotateFixture fills a database with a value in every sealed column:
// persons with every sensitive field, a released person with a correction
// request (R30), an account with a TOTP secret and a working-group phone.
type rotateFixture struct {
	lead    *casework.Actor
	persons map[string]string // person id → ID number
	corrID  string
}

func newRotateFixture(t *testing.T, db *store.DB) rotateFixture {
	t.Helper()
	tr := buildTree(t, db)
	f := rotateFixture{lead: actorWith(casework.RoleLead, tr.street), persons: map[string]string{}}
	for i := range 5 {
		idn := idNumber(fmt.Sprintf("46020319850312%03d", 100+i))
		in := casework.PersonInput{OrgID: tr.commA.ID, Name: fmt.Sprintf("符明%c", '一'+rune(i)), IDNumber: idn, Phone: fmt.Sprintf("138%08d", 7654320+i),
			HouseholdAddr: "海南省三亚市吉阳区某村", ResidenceAddr: "安椰厂区宿舍3栋", HealthNotes: "无", Contacts: []casework.Contact{{Name: "符母", Relation: "母亲", Phone: "13900001111"}},
			DrugHistory: casework.DrugHistory{Substances: []string{"甲基苯丙胺"}, Notes: "2019年查获"}}
		m := &casework.MeasureInput{Kind: casework.MeasureRehab, DecisionNumber: fmt.Sprintf("三公(吉)社康决字〔2021〕%d号", i+1), DecisionAuthority: "三亚市公安局吉阳分局",
			DecisionDate: casework.NewDate(2021, 3, 1), ReceivedDate: casework.NewDate(2021, 3, 3), ReportDate: casework.NewDate(2021, 3, 8), TermMonths: 36}
		p := storetest.Must(db.CreatePerson(ctx, f.lead, in, m))
		f.persons[p.ID] = idn
		if i == 0 {
			storetest.Must(db.Transition(ctx, f.lead, p.ID, store.TransitionInput{Action: casework.ActRelease, EffectiveDate: casework.NewDate(2024, 3, 8)}))
			name := "符明改"
			f.corrID = storetest.Must(db.RequestCorrection(ctx, f.lead, p.ID, store.PersonUpdate{Name: &name, Phone: ptr("13800009999")}, "姓名录入错误"))
		}
		if i == 1 {
			if err := db.AddGroupMember(ctx, f.lead, p.ID, store.GroupMember{Role: "family", Name: "符父"}); err != nil {
				t.Fatal(err)
			}
			// No store method sets a member's phone yet: seal one by hand,
			// with the context rotation uses.
			err := db.Write(ctx, func(tx *store.Tx) error {
				var id string
				if err := tx.QueryRow(ctx, `SELECT id FROM working_group WHERE name = ?`, "符父").Scan(&id); err != nil {
					return err
				}
				s, err := db.Vault().Seal("13912345678", store.GroupPhoneContext(id))
				if err != nil {
					return err
				}
				_, err = tx.Exec(ctx, `UPDATE working_group SET phone_enc = ? WHERE id = ?`, s, id)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	sys := casework.SystemActor("test")
	u := storetest.Must(db.CreateUser(ctx, sys, casework.UserInput{Username: "totpuser", DisplayName: "两步验证用户", OrgID: tr.street.ID, Password: "long-enough-password"}, "argon2id$test", false))
	if err := db.SetPendingTOTP(ctx, &casework.Actor{UserID: u.ID, Username: "totpuser"}, "JBSWY3DPEHPK3PXP"); err != nil {
		t.Fatal(err)
	}
	return f
}

// checkReads reads every person through the store (file, reveal, search by
// ID number through the blind index) and the TOTP secret.
func (f rotateFixture) checkReads(t *testing.T, db *store.DB) {
	t.Helper()
	for id, idn := range f.persons {
		if _, err := db.GetPerson(ctx, f.lead, id, ""); err != nil {
			t.Fatalf("read person %s: %v", id, err)
		}
		got, err := db.Reveal(ctx, f.lead, id, "id_number", "核对身份")
		if err != nil || got != idn {
			t.Fatalf("reveal ID of %s = %q, %v; want %q", id, got, err, idn)
		}
		ps, n, err := db.ListPersons(ctx, f.lead, store.PersonFilter{Query: idn, IncludeEnded: true})
		if err != nil || n != 1 || ps[0].ID != id {
			t.Fatalf("search by ID number found %d, %v; want the person (blind index unchanged)", n, err)
		}
	}
	c := storetest.Must(db.CredentialsByUsername(ctx, "totpuser"))
	if c.TOTPSecret != "JBSWY3DPEHPK3PXP" {
		t.Fatalf("TOTP secret = %q", c.TOTPSecret)
	}
}

// TestRotateKey: issue 3 §1 — values sealed under k1 are re-encrypted under
// k2 (then k3) in batches while reads keep working; the plaintext and the
// blind indexes are unchanged; a rerun changes nothing; a new connection
// seals under the current key read from the settings table.
func TestRotateKey(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			db := storetest.Open(t, e, nil)
			f := newRotateFixture(t, db)
			before := plaintexts(t, db, "k1")
			if len(before) < 5*7 {
				t.Fatalf("fixture has %d sealed values, want every column filled", len(before))
			}

			batches := 0
			rep, err := db.RotateKey(ctx, store.RotateOptions{BatchSize: 2, Grace: -1, Progress: func(table string, n int) {
				batches++
				if batches == 1 { // mid-rotation: some values k1, some k2
					f.checkReads(t, db)
				}
			}})
			if err != nil {
				t.Fatal(err)
			}
			if rep.From != "k1" || rep.To != "k2" || rep.Rotated() != len(before) {
				t.Fatalf("rotation %s→%s re-encrypted %d values, want k1→k2 and %d", rep.From, rep.To, rep.Rotated(), len(before))
			}
			if batches < 3 {
				t.Errorf("%d batches; want small batches (size 2)", batches)
			}
			for _, c := range rep.Columns {
				if c.Old != 0 || c.Current != c.Rotated {
					t.Errorf("%s.%s: %d still under older keys, %d under k2, %d rotated", c.Table, c.Column, c.Old, c.Current, c.Rotated)
				}
			}
			after := plaintexts(t, db, "k2")
			for k, v := range before {
				if after[k] != v {
					t.Errorf("%s changed by rotation", k)
				}
			}
			f.checkReads(t, db)
			approver := &casework.Actor{UserID: "u-lead2", Username: "lead2", Grants: f.lead.Grants}
			if err := db.DecideCorrection(ctx, approver, f.corrID, true, "核实无误"); err != nil {
				t.Fatalf("approve a correction sealed under k1, rotated to k2: %v", err)
			}

			t.Run("rerun changes nothing", func(t *testing.T) {
				rep, err := db.RotateKey(ctx, store.RotateOptions{Resume: true, Grace: -1})
				if err != nil || rep.To != "k2" || rep.Rotated() != 0 {
					t.Fatalf("resume: to %s, %d rotated, %v; want k2, 0", rep.To, rep.Rotated(), err)
				}
			})

			t.Run("a new connection seals under the current key", func(t *testing.T) {
				db2 := storetest.Open(t, e, nil)
				if err := db2.Vault().Refresh(); err != nil {
					t.Fatal(err)
				}
				s := storetest.Must(db2.Vault().Seal("x", "test"))
				if vault.KeyID(s) != "k2" {
					t.Fatalf("sealed under %q, want k2", vault.KeyID(s))
				}
			})

			t.Run("second rotation to k3", func(t *testing.T) {
				rep, err := db.RotateKey(ctx, store.RotateOptions{Grace: -1})
				if err != nil || rep.To != "k3" {
					t.Fatalf("to %s, %v", rep.To, err)
				}
				got := plaintexts(t, db, "k3")
				if len(got) != len(sealedValues(t, db)) {
					t.Fatal("values lost")
				}
				f.checkReads(t, db)
			})

			t.Run("an altered value fails to open with a clear error", func(t *testing.T) {
				var victim string
				for id := range f.persons {
					victim = id
					break
				}
				err := db.Write(ctx, func(tx *store.Tx) error {
					var s string
					if err := tx.QueryRow(ctx, `SELECT phone_enc FROM persons WHERE id = ?`, victim).Scan(&s); err != nil {
						return err
					}
					b := []byte(s)
					i := len(b) - 3
					b[i] = map[bool]byte{true: 'B', false: 'A'}[b[i] == 'A']
					_, err := tx.Exec(ctx, `UPDATE persons SET phone_enc = ? WHERE id = ?`, string(b), victim)
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
				_, err = db.Reveal(ctx, f.lead, victim, "phone", "核对")
				if !errors.Is(err, vault.ErrUndecryptable) {
					t.Fatalf("reveal of an altered phone: %v, want ErrUndecryptable", err)
				}
				rep, err := db.RotateKey(ctx, store.RotateOptions{Grace: -1})
				if err == nil || !strings.Contains(err.Error(), "persons.phone_enc "+victim) || len(rep.Failed) != 1 {
					t.Fatalf("rotate with an altered value: %v (failed %v); want an error naming persons.phone_enc %s", err, rep.Failed, victim)
				}
				for _, c := range rep.Columns { // the rest still rotated
					want := 0
					if c.Table == "persons" && c.Column == "phone_enc" {
						want = 1
					}
					if c.Old != want {
						t.Errorf("%s.%s: %d under older keys, want %d", c.Table, c.Column, c.Old, want)
					}
				}
				if rep.To != "k4" {
					t.Errorf("to %s, want k4", rep.To)
				}
			})
		})
	}
}
