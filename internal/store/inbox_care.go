package store

// inbox_care.go adds the care tasks to the inbox (issue 11 §3): a PHQ-9
// whose item 9 (thoughts of death or self-harm) is above zero is a task for
// the counsellors assigned to the person, the person's worker and whoever
// administered it, due the day it was administered in the org's time zone
// and overdue from the next day, until a follow-up is recorded
// (RecordFollowup).

import (
	"context"
	"fmt"

	"kangfu/internal/casework"
)

// item9Tasks lists the open PHQ-9 item 9 flags the actor must follow up.
func item9Tasks(ctx context.Context, tx *Tx, actor *casework.Actor, today casework.Date) ([]Task, error) {
	if !actor.CanAnywhere(casework.PermPsychWrite) {
		return nil, nil
	}
	scope, args := scopeClause("o.path", actor.Scope(casework.PermPsychWrite))
	q := `SELECT p.id, p.name, o.name, o.time_zone, a.administered_on FROM scale_administrations a JOIN persons p ON p.id = a.person_id
		JOIN orgs o ON o.id = p.org_id
		WHERE a.item9 > 0 AND a.followup_at IS NULL AND a.scale = 'phq9' AND ` + scope + `
		AND (p.worker_id = ? OR a.administered_by = ? OR EXISTS (SELECT 1 FROM counsellor_assignments ca WHERE ca.person_id = p.id AND ca.user_id = ? AND ca.ended_at IS NULL))
		ORDER BY a.administered_on`
	args = append(args, actor.UserID, actor.UserID, actor.UserID)
	return personTasks(ctx, tx, q, args, func(t *Task, tz string, d casework.Date) bool {
		t.Kind, t.Due, t.Link = "phq9_item9", d, "/persons/"+t.PersonID+"/psych#followup"
		t.Overdue = d.Before(tx.zoneToday(tz))
		t.TitleZH = fmt.Sprintf("%s 的 PHQ-9 第9题（自伤或轻生念头）阳性（%s），须当天随访", t.PersonName, d)
		t.TitleEN = fmt.Sprintf("%s: PHQ-9 item 9 (thoughts of self-harm) positive on %s: follow up the same day", t.PersonName, d)
		return true
	})
}
