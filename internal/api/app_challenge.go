package api

import (
	"context"
	"fmt"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
)

// todaySpotChallenge adds "spot_challenge" to the app's today (issue 17
// §4, 人机分离): from its drawn moment, the person is asked to check in
// within the policy's minutes. null on a day without one or before its
// moment; once answered or past its deadline it stays with open false.
// Not answering is never a violation by itself (R32): the worker looks.
func (a *API) todaySpotChallenge(ctx context.Context, dev *store.AppDevice, lang string, out map[string]any) error {
	c, err := a.DB.AppChallenge(ctx, dev)
	if err != nil {
		return err
	}
	if c == nil {
		out["spot_challenge"] = nil
		return nil
	}
	now := a.DB.Now()
	by := c.Deadline.In(casework.LoadLocation("")).Format("15:04")
	open := !c.Answered && !now.After(c.Deadline)
	zh, en := fmt.Sprintf("限时签到：请在 %d 分钟内打卡（%s 前）", c.Minutes, by), fmt.Sprintf("Timed check-in: please check in within %d minutes (by %s)", c.Minutes, by)
	switch {
	case c.Answered:
		zh, en = "今天的限时签到已完成，谢谢。", "Today's timed check-in is done. Thank you."
	case !open:
		zh, en = "今天的限时签到已过时限。这不算违规，社工可能会联系您了解情况。",
			"Today's timed check-in has passed. It is not a violation; your worker may contact you to ask."
	}
	text := zh
	if lang == "en" {
		text = en
	}
	out["spot_challenge"] = map[string]any{
		"issued_at": c.Issued.UTC().Format(time.RFC3339), "deadline": c.Deadline.UTC().Format(time.RFC3339), "minutes": c.Minutes,
		"answered": c.Answered, "open": open, "text": text,
	}
	return nil
}
