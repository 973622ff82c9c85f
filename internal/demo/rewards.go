package demo

import (
	"context"
	"fmt"

	"kangfu/internal/casework"
	"kangfu/internal/store"
)

const rewardsMarker = "demo:rewards"

// demoRewards is the street office's catalogue (issue 14 §4): things in
// kind a person can use, never cash or anything that works as cash (no
// top-up cards, no vouchers for a shop). Priced above a single negative
// test so a reward takes a run of them (CARE.md §1: the schedule's scale).
var demoRewards = []store.RewardInput{
	{Name: "洗衣液 2千克", Kind: store.RewardGoods, Points: 60, Stock: 20, Note: "街道社工站领取"},
	{Name: "大米 5千克", Kind: store.RewardGoods, Points: 80, Stock: 15, Note: "街道社工站领取"},
	{Name: "理发券（社区理发店）", Kind: store.RewardService, Points: 40, Stock: 30, Note: "本人到店使用，不找零、不兑现"},
}

// loadRewards gives the demo street a rewards catalogue and turns
// incentives on for the district by policy. A policy version takes effect
// tomorrow at the earliest (a day already begun keeps its policy), so on
// the day the demo is loaded nothing changes: no consent can be recorded
// yet and today's figures stay as they are; from tomorrow a worker records
// a person's consent on the person's points page.
func loadRewards(ctx context.Context, db *store.DB) error {
	first, err := db.Mark(ctx, rewardsMarker)
	if err != nil || !first {
		return err
	}
	sys := casework.SystemActor("demo")
	street, err := demoOrg(ctx, db, sys, "椰林街道（示例）")
	if err != nil {
		return err
	}
	for _, in := range demoRewards {
		if _, err := db.AddReward(ctx, sys, street.ID, in); err != nil {
			return fmt.Errorf("demo reward %s: %w", in.Name, err)
		}
	}
	district, err := demoOrg(ctx, db, sys, "吉阳区")
	if err != nil {
		return err
	}
	tomorrow := casework.DateOf(db.Now(), district.Location()).AddDays(1)
	if _, err := db.CreatePolicyVersion(ctx, sys, district.ID, casework.PolicyVersionInput{EffectiveFrom: tomorrow,
		Settings: map[string]string{"incentive.enabled": "true"}, Note: "积分激励试点（示例）：本人书面同意后按检测阴性等核实事项计分"}); err != nil {
		return fmt.Errorf("demo incentive policy: %w", err)
	}
	return nil
}
