package demo

import (
	"context"
	"fmt"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
)

const transferOverdueMarker = "demo:transfer-overdue"

// transferOverdueDays: the hand-over is dated this many days ago, so the new
// 15-day report deadline (R11) ended yesterday: the person is one day
// overdue at the new place today (R2), and the next nightly detection
// records the deemed refusal for the police (the detection starts from
// today, and the day after the deadline is today).
const transferOverdueDays = 16

// loadTransferOverdue adds one person who was transferred from the factory
// to 海湾社区 and never reported there (issue 10 item 1): pending report at
// the new place past its deadline, without a new agreement (R11), in
// worker2's caseload and the street lead's and police's inboxes.
func loadTransferOverdue(ctx context.Context, db *store.DB) error {
	first, err := db.Mark(ctx, transferOverdueMarker)
	if err != nil || !first {
		return err
	}
	sys := casework.SystemActor("demo")
	orgs, err := db.ListOrgs(ctx, sys, store.OrgFilter{})
	if err != nil {
		return err
	}
	byName := map[string]*casework.Org{}
	for _, o := range orgs {
		byName[o.Name] = o
	}
	from, to := byName[factoryName], byName["海湾社区（示例）"]
	if from == nil || to == nil {
		return fmt.Errorf("demo transfer: the demo org tree is missing")
	}
	worker, err := db.UserIDByName(ctx, "worker")
	if err != nil {
		return err
	}
	worker2, err := db.UserIDByName(ctx, "worker2")
	if err != nil {
		return err
	}
	past := db.AsOf(db.Now().Add(-transferOverdueDays * 24 * time.Hour))
	today := casework.DateOf(past.Now(), from.Location())
	report := today.AddDays(-300)
	body := "46020319880315031"
	p, err := past.CreatePerson(ctx, sys, casework.PersonInput{OrgID: from.ID, Name: "邓迁（示例）", IDNumber: body + string(casework.IDCheckChar(body)),
		Sex: "M", Ethnicity: "汉族", WorkerID: worker},
		&casework.MeasureInput{Kind: casework.MeasureTreatment, DecisionNumber: "吉公（禁）社戒决字〔2026〕88号（示例）", DecisionAuthority: "三亚市公安局吉阳分局",
			DecisionDate: report.AddDays(-5), ReceivedDate: report.AddDays(-3), ReportDate: report, AgreementDate: report, WorkerID: worker})
	if err != nil {
		return fmt.Errorf("demo transfer person: %w", err)
	}
	if _, err := past.StartTransfer(ctx, sys, p.ID, to.ID, "到海湾社区亲属处居住，申请变更执行地（示例）"); err != nil {
		return fmt.Errorf("demo transfer start: %w", err)
	}
	ts, err := past.ListTransfers(ctx, sys, "pending", true)
	if err != nil {
		return err
	}
	for _, t := range ts {
		if t.PersonID == p.ID {
			// Accepted without a new agreement: the new place must sign one (R11).
			_, err := past.DecideTransfer(ctx, sys, t.ID, store.TransferDecision{Accept: true, WorkerID: worker2, Reason: "同意接收（示例）"})
			return err
		}
	}
	return fmt.Errorf("demo transfer: not started")
}
