package store

// inbox_rules.go: inbox sources for two duties the law sets on the
// township (issue 10 items 8 and 9):
//   - R10 (S1 Art 21): every refusal, positive test or drug use, and a
//     deemed refusal (R2), must be reported to the police with the time
//     and the recipient. A violation flagged police_required stays a task
//     until a 通报公安 step is recorded on it (or, for a positive test or
//     drug use, until the serious case opened for it exists: that case is
//     its own task until reported); an excused violation needs no report.
//   - R7 (S1 Art 17): a measure being executed needs a working group with
//     at least the worker, the community police and a family member or
//     guardian (or a recorded reason why there is none).

import (
	"context"
	"fmt"
	"strings"

	"kangfu/internal/casework"
)

// policeReportTasks: violations that must be reported to the police (R10)
// with no report recorded yet. Due the day of the violation (R10: at once);
// overdue from the day after.
func policeReportTasks(ctx context.Context, tx *Tx, actor *casework.Actor, today casework.Date) ([]Task, error) {
	if !actor.CanAnywhere(casework.PermDecideViolations) {
		return nil, nil
	}
	where, args := scopeClause("o.path", actor.Scope(casework.PermDecideViolations))
	rows, err := tx.Query(ctx, `SELECT v.id, v.person_id, p.name, o.name, o.time_zone, v.kind, v.day`+violationFrom+`
		WHERE `+where+` AND v.police_required = ? AND v.state <> ?
		AND NOT EXISTS (SELECT 1 FROM violation_steps s WHERE s.violation_id = v.id AND s.step = ?)
		AND NOT EXISTS (SELECT 1 FROM serious_cases c WHERE c.measure_id = v.measure_id AND c.trigger_kind IN (?, ?)
			AND (c.trigger_key = v.id OR c.trigger_key = v.source_key))
		ORDER BY v.day, v.id LIMIT `+fmt.Sprint(InboxLimit),
		append(args, true, string(casework.ViolationExcused), string(casework.StepPolice),
			string(casework.TriggerPositive), string(casework.TriggerDrugUse))...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Task
	for rows.Next() {
		var id, pid, name, org, tz, kind string
		var day casework.Date
		if err := rows.Scan(&id, &pid, &name, &org, &tz, &kind, &day); err != nil {
			return nil, err
		}
		k := casework.ViolationKind(kind)
		out = append(out, Task{Kind: "police_report", PersonID: pid, PersonName: name, OrgName: org, Due: day,
			Overdue: day.Before(tx.zoneToday(tz)), Rule: "R10", Link: "/violations/" + id,
			TitleZH: fmt.Sprintf("%s %s：%s，须报告公安机关（记录接收单位和时间）", name, day, k.Label("zh")),
			TitleEN: fmt.Sprintf("%s, %s: %s — report to the police (record the recipient and time)", name, day, k.Label("en"))})
	}
	return out, rows.Err()
}

// groupTasks: measures being executed whose working group lacks a required
// member (R7). Due the report date (the group is formed at report-in).
func groupTasks(ctx context.Context, tx *Tx, actor *casework.Actor, today casework.Date) ([]Task, error) {
	if !actor.CanAnywhere(casework.PermWritePersons) {
		return nil, nil
	}
	scope, args := personScope(actor, casework.PermWritePersons)
	has := func(roles ...string) string {
		return `CASE WHEN EXISTS (SELECT 1 FROM working_group g WHERE g.measure_id = m.id AND g.role IN ('` + strings.Join(roles, "', '") + `')) THEN 1 ELSE 0 END`
	}
	q := `SELECT p.id, p.name, o.name, o.time_zone, m.report_date, ` + has("worker") + `, ` + has("police") + `, ` + has("family", casework.GroupRoleGuardian) +
		`, m.group_family_reason` + taskFrom + ` JOIN measures m ON m.person_id = p.id AND m.in_force = ?
		WHERE m.status IN ('executing', 'on_leave') AND m.report_date IS NOT NULL AND ` + scope + ` ORDER BY m.report_date LIMIT ` + fmt.Sprint(InboxLimit)
	rows, err := tx.Query(ctx, q, append([]any{true}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Task
	for rows.Next() {
		t := Task{Kind: "working_group", Rule: "R7"}
		var tz, reason string
		var worker, police, family int
		if err := rows.Scan(&t.PersonID, &t.PersonName, &t.OrgName, &tz, &t.Due, &worker, &police, &family, &reason); err != nil {
			return nil, err
		}
		var roles []string
		for role, n := range map[string]int{"worker": worker, "police": police, "family": family} {
			if n > 0 {
				roles = append(roles, role)
			}
		}
		gaps := casework.GroupGaps(roles, reason)
		if len(gaps) == 0 {
			continue
		}
		var zh, en []string
		for _, g := range gaps {
			zh, en = append(zh, casework.GroupRoleLabel(g, "zh")), append(en, casework.GroupRoleLabel(g, "en"))
		}
		t.Link = "/persons/" + t.PersonID + "#group"
		t.Overdue = t.Due.Before(tx.zoneToday(tz))
		t.TitleZH = fmt.Sprintf("%s 的工作小组不完整，缺少：%s", t.PersonName, strings.Join(zh, "、"))
		t.TitleEN = fmt.Sprintf("%s: working group incomplete, missing: %s", t.PersonName, strings.Join(en, ", "))
		out = append(out, t)
	}
	return out, rows.Err()
}
