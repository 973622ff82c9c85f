package store

// inbox_risk.go: the risk tiers' tasks (issue 13 §3; R31, R32), computed
// by riskDue (risk_due.go).

import (
	"context"
	"fmt"

	"kangfu/internal/casework"
)

// riskTasks: reassessments due within 7 days or overdue, and those a
// trigger asks for now, for workers and leads (a worker: its caseload);
// open proposals and step-down proposals for the lead who decides (R32).
func riskTasks(ctx context.Context, tx *Tx, actor *casework.Actor, _ casework.Date) ([]Task, error) {
	assess, confirm := actor.CanAnywhere(casework.PermRiskAssess), actor.CanAnywhere(casework.PermRiskConfirm)
	if !assess && !confirm {
		return nil, nil
	}
	perm := casework.PermRiskAssess
	if confirm {
		perm = casework.PermRiskConfirm
	}
	scope, args := personScope(actor, perm)
	rows, err := riskDue(ctx, tx, scope, args, 0)
	if err != nil {
		return nil, err
	}
	var out []Task
	for _, r := range rows {
		if len(out) >= InboxLimit {
			break
		}
		t := Task{PersonID: r.PersonID, PersonName: r.PersonName, OrgName: r.OrgName, Rule: "R31", Link: "/persons/" + r.PersonID + "/risk"}
		switch {
		case r.Proposal && confirm:
			t.Kind, t.Due, t.Rule = "risk_confirm", r.Today, "R32"
			t.TitleZH = fmt.Sprintf("%s 的风险评估待确认等级", r.PersonName)
			t.TitleEN = fmt.Sprintf("%s: a risk assessment awaits your decision on the tier", r.PersonName)
		case r.Proposal:
			continue
		case len(r.Triggers) > 0:
			t.Kind, t.Due = "risk_trigger", r.Today
			t.TitleZH = fmt.Sprintf("%s 有%s，须立即复评风险等级", r.PersonName, r.Triggers[0].Label("zh"))
			t.TitleEN = fmt.Sprintf("%s: %s since the last assessment: reassess the risk tier now", r.PersonName, r.Triggers[0].Label("en"))
		case r.Never && !r.Due.After(r.Today.AddDays(casework.DueSoonDays)):
			t.Kind, t.Due, t.Overdue = "risk_due", r.Due, r.Overdue
			t.TitleZH = fmt.Sprintf("%s 尚未进行风险评估", r.PersonName)
			t.TitleEN = fmt.Sprintf("%s: no risk assessment yet", r.PersonName)
		case !r.Due.After(r.Today.AddDays(casework.DueSoonDays)):
			t.Kind, t.Due, t.Overdue = "risk_due", r.Due, r.Overdue
			t.TitleZH = fmt.Sprintf("%s 须在 %s 前复评风险等级", r.PersonName, r.Due)
			t.TitleEN = fmt.Sprintf("%s: risk reassessment due by %s", r.PersonName, r.Due)
		case r.StepDown && confirm:
			t.Kind, t.Due, t.Rule = "risk_stepdown", r.Today, "R31, R32"
			t.Link += "?reason=stepdown"
			t.TitleZH = fmt.Sprintf("%s 已持续守规，可考虑降低风险等级（须评估并确认）", r.PersonName)
			t.TitleEN = fmt.Sprintf("%s: sustained compliance: consider a lower risk tier (assess and confirm)", r.PersonName)
		default:
			continue
		}
		out = append(out, t)
	}
	return out, nil
}
