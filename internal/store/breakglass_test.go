package store_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// bgWorld is pfBuild's county plus a second county whose staff are outside
// the first's subtree.
type bgWorld struct {
	pfWorld
	county2, street2                *casework.Org
	police2, lead2x, worker2, coun2 *casework.Actor
}

func bgBuild(t *testing.T, db *store.DB) bgWorld {
	t.Helper()
	w := bgWorld{pfWorld: pfBuild(t, db)}
	w.county2 = storetest.Must(db.CreateOrg(ctx, pfSys, casework.OrgInput{ParentID: w.city.ID, Kind: casework.KindCounty, Name: "吉阳区"}))
	w.street2 = storetest.Must(db.CreateOrg(ctx, pfSys, casework.OrgInput{ParentID: w.county2.ID, Kind: casework.KindTownship, Name: "河东街道"}))
	w.police2 = pfStaff(t, db, "police2", casework.RolePolice, w.street2)
	w.lead2x = pfStaff(t, db, "lead2x", casework.RoleLead, w.street2)
	w.worker2 = pfStaff(t, db, "worker2", casework.RoleWorker, w.street2)
	w.coun2 = pfStaff(t, db, "coun2", casework.RoleCounsellor, w.street2)
	return w
}

func bgReason() string { return "辖区内发生紧急警情，需核实当事人身份与联系人" }

// R36, PRODUCT §1: outside the subtree a file is not found; a break-glass
// grant opens it at once, read-only, until it ends by itself (checked at
// read time) or the holding office revokes it; every read under it is
// audited with the grant's id; the holding office sees it on the file and
// in its review list and inbox, and reviews it.
func TestBreakGlassR36GrantReadOnlyExpiresRevokes(t *testing.T) {
	start := time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
	storetest.EachWithClock(t, start, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := bgBuild(t, db)
		p := storetest.Must(db.CreatePerson(ctx, w.workerA, pfPerson(w.commA, "王小明", pfID("19900101", 1, true)), nil))

		_, err := db.GetPerson(ctx, w.police2, p.ID, "")
		pfCode(t, "outside the subtree before a grant", err, casework.ENOTFOUND)

		g, err := db.RequestBreakGlass(ctx, w.police2, casework.BreakGlassInput{PersonID: "https://kangfu.example/persons/" + p.ID + "?tl=20", Reason: bgReason()})
		if err != nil {
			t.Fatal(err)
		}
		if g.Hours != 4 || !g.EndsAt.Equal(start.Add(4*time.Hour)) || g.PersonID != p.ID {
			t.Fatalf("grant %+v: want 4 hours (the policy default) on %s", g, p.ID)
		}
		got, err := db.GetPerson(ctx, w.police2, p.ID, "")
		if err != nil {
			t.Fatalf("under the grant: %v", err)
		}
		if got.Name != "王小明" || got.Access.BreakGlass != g.ID || got.Access.Write || got.Access.Transfer || !got.Access.Sensitive {
			t.Fatalf("under the grant: access %+v", got.Access)
		}
		if _, err := db.ListMeasures(ctx, w.police2, p.ID); err != nil {
			t.Fatalf("measures under the grant: %v", err)
		}
		if _, _, err := db.ListTimeline(ctx, w.police2, p.ID, 0, 20); err != nil {
			t.Fatalf("timeline under the grant: %v", err)
		}
		// Writes still need the scope.
		name := "改名"
		_, err = db.UpdatePerson(ctx, w.police2, p.ID, store.PersonUpdate{Name: &name})
		pfCode(t, "a write under the grant", err, casework.EFORBIDDEN)
		if again := storetest.Must(db.GetPerson(ctx, w.workerA, p.ID, "")); again.Name != "王小明" {
			t.Fatalf("the write went through: %q", again.Name)
		}
		// Every read under the grant is audited with its id.
		reads := 0
		for _, r := range pfAudit(t, db, w.pfWorld, "person.read", p.ID) {
			if r.ActorID != w.police2.UserID {
				continue
			}
			reads++
			var d map[string]any
			if err := json.Unmarshal([]byte(r.Detail), &d); err != nil || d["break_glass"] != g.ID {
				t.Errorf("read audited without the grant: %q", r.Detail)
			}
		}
		if reads != 3 {
			t.Errorf("%d audited reads under the grant, want 3 (file, measures, timeline)", reads)
		}

		// The holding office sees it on the file and in its review list;
		// the inbox asks for the review once it is over.
		list := storetest.Must(db.ListPersonBreakGlass(ctx, w.office, p.ID))
		if len(list) != 1 || list[0].ID != g.ID || list[0].UserName != "police2" || list[0].FromOrg != "河东街道" || list[0].State != "active" {
			t.Fatalf("the file's grants for its office: %+v", list)
		}
		if rs := storetest.Must(db.ListBreakGlassReviews(ctx, w.office, store.BreakGlassFilter{Pending: true})); len(rs) != 1 || rs[0].PersonName != "王小明" {
			t.Fatalf("review list: %+v", rs)
		}
		if rs := storetest.Must(db.ListBreakGlassReviews(ctx, w.lead2x, store.BreakGlassFilter{})); len(rs) != 0 {
			t.Fatalf("another county's lead sees %d grants", len(rs))
		}
		told := false
		for _, n := range storetest.Must(db.ListNotifications(ctx, w.office, false)) {
			told = told || (n.Kind == "breakglass.request" && n.PersonID == p.ID)
		}
		if !told {
			t.Error("the holding office was not told of the grant")
		}
		if bgTasks(t, db, w.office) != 0 {
			t.Error("inbox asks for a review while the grant runs")
		}

		// Expiry is checked at read time: no job has run.
		clock.Add(4*time.Hour + time.Second)
		_, err = db.GetPerson(ctx, w.police2, p.ID, "")
		pfCode(t, "after expiry", err, casework.ENOTFOUND)
		_, err = db.ListMeasures(ctx, w.police2, p.ID)
		pfCode(t, "measures after expiry", err, casework.ENOTFOUND)
		if bgTasks(t, db, w.office) != 1 {
			t.Error("inbox has no review task after the grant ended")
		}
		err = db.ReviewBreakGlass(ctx, w.office, g.ID, casework.BreakGlassReviewInput{Verdict: casework.BreakGlassUnjustified})
		pfField(t, "unjustified without a note", err, "note")
		err = db.ReviewBreakGlass(ctx, w.lead2x, g.ID, casework.BreakGlassReviewInput{Verdict: casework.BreakGlassJustified})
		pfCode(t, "review from outside", err, casework.ENOTFOUND)
		if err := db.ReviewBreakGlass(ctx, w.office, g.ID, casework.BreakGlassReviewInput{Verdict: casework.BreakGlassJustified, Note: "确有警情"}); err != nil {
			t.Fatal(err)
		}
		err = db.ReviewBreakGlass(ctx, w.office, g.ID, casework.BreakGlassReviewInput{Verdict: casework.BreakGlassUnjustified, Note: "x"})
		pfCode(t, "reviewed twice", err, casework.ECONFLICT)
		if len(pfAudit(t, db, w.pfWorld, "breakglass.review", p.ID)) != 1 {
			t.Error("the review is not audited")
		}
		if bgTasks(t, db, w.office) != 0 {
			t.Error("inbox still asks for a reviewed grant")
		}

		// A second grant, revoked by the holding office.
		g2 := storetest.Must(db.RequestBreakGlass(ctx, w.police2, casework.BreakGlassInput{PersonID: p.ID, Reason: bgReason(), Hours: "2"}))
		storetest.Must(db.GetPerson(ctx, w.police2, p.ID, ""))
		pfCode(t, "revoke by the requester", db.RevokeBreakGlass(ctx, w.police2, g2.ID, ""), casework.ENOTFOUND)
		if err := db.RevokeBreakGlass(ctx, w.lead, g2.ID, "已联系，无须继续查阅"); err != nil {
			t.Fatal(err)
		}
		_, err = db.GetPerson(ctx, w.police2, p.ID, "")
		pfCode(t, "after revoke", err, casework.ENOTFOUND)
		pfCode(t, "revoke twice", db.RevokeBreakGlass(ctx, w.lead, g2.ID, ""), casework.ECONFLICT)
		list = storetest.Must(db.ListPersonBreakGlass(ctx, w.office, p.ID))
		if len(list) != 2 || list[0].State != "revoked" || list[0].RevokedBy != "lead" || list[1].State != "expired" || list[1].Verdict != "justified" {
			t.Fatalf("the file's grants after revoke and review: %+v %+v", list[0], list[1])
		}
	})
}

func bgTasks(t *testing.T, db *store.DB, actor *casework.Actor) int {
	t.Helper()
	n := 0
	for _, task := range storetest.Must(db.Inbox(ctx, actor)) {
		if task.Kind == "breakglass_review" {
			n++
		}
	}
	return n
}

// The request answers alike whether or not the id names a file, and the
// requester's own list shows no name or place for either; only roles the
// policy allows may ask; a file already in scope needs no grant; bad input
// is refused field by field.
func TestBreakGlassR36NoExistenceLeakRolesAndInput(t *testing.T) {
	start := time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
	storetest.EachWithClock(t, start, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := bgBuild(t, db)
		p := storetest.Must(db.CreatePerson(ctx, w.workerA, pfPerson(w.commA, "王小明", pfID("19900101", 1, true)), nil))
		missing := store.NewID()

		real := storetest.Must(db.RequestBreakGlass(ctx, w.police2, casework.BreakGlassInput{PersonID: p.ID, Reason: bgReason()}))
		none := storetest.Must(db.RequestBreakGlass(ctx, w.police2, casework.BreakGlassInput{PersonID: missing, Reason: bgReason()}))
		norm := func(g store.BreakGlass) store.BreakGlass { g.ID, g.PersonID = "", ""; return g }
		if a, b := norm(*real), norm(*none); a != b {
			t.Fatalf("answers differ:\n file:    %+v\n no file: %+v", a, b)
		}
		mine := storetest.Must(db.ListMyBreakGlass(ctx, w.police2))
		if len(mine) != 2 {
			t.Fatalf("own list: %d", len(mine))
		}
		if a, b := norm(*mine[0]), norm(*mine[1]); a != b {
			t.Fatalf("own list differs:\n %+v\n %+v", a, b)
		}
		for _, m := range mine {
			if m.PersonName != "" || m.HolderOrg != "" {
				t.Errorf("own list names the file: %+v", m)
			}
		}
		_, err := db.GetPerson(ctx, w.police2, missing, "")
		pfCode(t, "no file under a grant", err, casework.ENOTFOUND)

		// Roles: by default police and street leads; not workers, offices
		// or counsellors, and never from the command line.
		if _, err := db.RequestBreakGlass(ctx, w.lead2x, casework.BreakGlassInput{PersonID: p.ID, Reason: bgReason(), Hours: "24"}); err != nil {
			t.Fatalf("a lead: %v", err)
		}
		for _, a := range []*casework.Actor{w.worker2, w.coun2, w.auditor, w.admin} {
			_, err := db.RequestBreakGlass(ctx, a, casework.BreakGlassInput{PersonID: p.ID, Reason: bgReason()})
			pfCode(t, a.Username+" breaking glass", err, casework.EFORBIDDEN)
			_, err = db.BreakGlassLimits(ctx, a)
			pfCode(t, a.Username+" limits", err, casework.EFORBIDDEN)
		}
		_, err = db.RequestBreakGlass(ctx, w.police, casework.BreakGlassInput{PersonID: p.ID, Reason: bgReason()})
		pfCode(t, "a file already in scope", err, casework.ECONFLICT)

		// A policy naming workers too lets them; one naming nobody stops police.
		day := casework.DateOf(start, nil).AddDays(1)
		storetest.Must(db.CreatePolicyVersion(ctx, w.lead2x, w.street2.ID, casework.PolicyVersionInput{EffectiveFrom: day, Note: "紧急查阅",
			Settings: map[string]string{"breakglass.roles": casework.BreakGlassAllReaders, "breakglass.max_hours": "8"}}))
		storetest.Must(db.CreatePolicyVersion(ctx, w.office, w.county.ID, casework.PolicyVersionInput{EffectiveFrom: day, Note: "停用紧急查阅",
			Settings: map[string]string{"breakglass.roles": casework.BreakGlassNobody}}))
		clock.Add(48 * time.Hour)
		if _, err := db.RequestBreakGlass(ctx, w.worker2, casework.BreakGlassInput{PersonID: p.ID, Reason: bgReason()}); err != nil {
			t.Fatalf("a worker where the policy allows it: %v", err)
		}
		_, err = db.RequestBreakGlass(ctx, w.lead2x, casework.BreakGlassInput{PersonID: p.ID, Reason: bgReason(), Hours: "9"})
		pfField(t, "over the policy's maximum", err, "hours")
		_, err = db.RequestBreakGlass(ctx, w.police, casework.BreakGlassInput{PersonID: missing, Reason: bgReason()})
		pfCode(t, "police where the policy says nobody", err, casework.EFORBIDDEN)

		// Input, every bad field at once.
		_, err = db.RequestBreakGlass(ctx, w.police2, casework.BreakGlassInput{PersonID: "00000000-0000-0000-0000-000000000000", Reason: "看\u202e看", Hours: "x"})
		pfCode(t, "bad input", err, casework.EINVALID)
		var fe casework.FieldErrors
		if !errors.As(err, &fe) || !fe.Has("person_id") || !fe.Has("reason") || !fe.Has("hours") {
			t.Fatalf("want errors on person_id, reason and hours: %v", err)
		}
		_, err = db.RequestBreakGlass(ctx, w.police2, casework.BreakGlassInput{PersonID: p.ID, Reason: "  "})
		pfField(t, "no reason", err, "reason")
	})
}

// BenchmarkBreakGlassRead compares a read of a file in scope with one
// under a break-glass grant (one more indexed lookup and the audit row
// with the grant), and a list read under a grant (audited afterwards in
// its own write transaction).
func BenchmarkBreakGlassRead(b *testing.B) {
	db := storetest.Open(b, storetest.Engines(b)[0], nil)
	w := ciBuild(b, db, casework.DateOf(db.Now(), nil).AddDays(-10))
	county2 := storetest.Must(db.CreateOrg(ctx, pfSys, casework.OrgInput{ParentID: w.county.ParentID, Kind: casework.KindCounty, Name: "天涯区"}))
	outside := ciStaff(b, db, "bg-police", casework.RolePolice, county2)
	storetest.Must(db.RequestBreakGlass(ctx, outside, casework.BreakGlassInput{PersonID: w.person.ID, Reason: "紧急警情核实", Hours: "24"}))
	b.Run("in-scope", func(b *testing.B) {
		for b.Loop() {
			storetest.Must(db.GetPerson(ctx, w.police, w.person.ID, ""))
		}
	})
	b.Run("break-glass", func(b *testing.B) {
		for b.Loop() {
			storetest.Must(db.GetPerson(ctx, outside, w.person.ID, ""))
		}
	})
	b.Run("break-glass-measures", func(b *testing.B) {
		for b.Loop() {
			storetest.Must(db.ListMeasures(ctx, outside, w.person.ID))
		}
	})
	b.Run("in-scope-measures", func(b *testing.B) {
		for b.Loop() {
			storetest.Must(db.ListMeasures(ctx, w.police, w.person.ID))
		}
	})
}
