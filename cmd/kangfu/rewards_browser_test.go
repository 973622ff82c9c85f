package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kangfu/internal/browsertest"
	"kangfu/internal/casework"
	"kangfu/internal/store"
)

// TestBrowserRewardsRedeemAtPhoneSize (issue 14 §4–5) at 360 px, in
// Chinese and in English: the worker adds a reward in kind to the
// community's catalogue; the person's app shows the points, the streak
// words, the catalogue and a one-time code; the worker enters the code on
// the person's points page and the points and the stock fall together;
// the same code a second time is refused.
func TestBrowserRewardsRedeemAtPhoneSize(t *testing.T) {
	ctx := browsertest.New(t)
	dir := t.TempDir()
	base := startServer(t, dir)
	// The store beside the server runs two days behind, so a policy
	// version it writes ("tomorrow at the earliest") is in force today.
	past := func() time.Time { return time.Now().Add(-48 * time.Hour) }
	db := openStoreAt(t, dir, past)
	var login struct {
		Token string `json:"token"`
	}
	if st := staffCall(t, base, "", "POST", "/api/v1/auth/login", `{"username":"worker","password":"kangfu-demo"}`, &login); st != 200 {
		t.Fatalf("worker login: %d", st)
	}
	var persons struct {
		Items []struct{ ID string } `json:"items"`
	}
	if st := staffCall(t, base, login.Token, "GET", "/api/v1/persons?status=executing&limit=50", "", &persons); st != 200 {
		t.Fatalf("list persons: %d", st)
	}
	var pid, code string
	for _, p := range persons.Items {
		var ac struct {
			Code string `json:"code"`
		}
		if staffCall(t, base, login.Token, "POST", "/api/v1/persons/"+p.ID+"/activation-codes", "", &ac) == 201 {
			pid, code = p.ID, ac.Code
			break
		}
	}
	if pid == "" {
		t.Fatal("no executing person of the demo the worker can activate")
	}
	// The demo has no points: 100 for a negative test, straight into the
	// ledger (the award job is tested in the store), after a reset: three
	// negatives in a row, two more to regain 35.
	var orgID, name string
	err := db.Write(context.Background(), func(tx *store.Tx) error {
		if err := tx.QueryRow(context.Background(), `SELECT org_id, name FROM persons WHERE id = ?`, pid).Scan(&orgID, &name); err != nil {
			return err
		}
		_, err := tx.Exec(context.Background(), `INSERT INTO incentive_ledger (id, person_id, org_id, rule, points, source_kind, source_id, day, state, created_at)
			VALUES (?, ?, ?, ?, 100, 'drug_test', ?, ?, '{"run":3,"next":25,"return":35,"streak":3,"last_seen":20}', ?)`, store.NewID(), pid, orgID, casework.AwardNegative, store.NewID(),
			time.Now().Format("2006-01-02"), tx.Now())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sh := casework.LoadLocation("Asia/Shanghai")
	if _, err := db.CreatePolicyVersion(context.Background(), casework.SystemActor("test"), orgID, casework.PolicyVersionInput{
		EffectiveFrom: casework.DateOf(past(), sh).AddDays(1), Settings: map[string]string{"incentive.enabled": "true"}, Note: "积分试点"}); err != nil {
		t.Fatal(err)
	}
	if st := staffCall(t, base, login.Token, "POST", "/api/v1/persons/"+pid+"/incentives/consent", `{"note":"本人书面同意"}`, nil); st != 201 {
		t.Fatalf("consent: %d", st)
	}

	tctx, cancel := context.WithTimeout(ctx, 150*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, chromedp.EmulateViewport(360, 740)); err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(tctx,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(`input[name=username]`),
		chromedp.SendKeys(`input[name=username]`, "worker"),
		chromedp.SendKeys(`input[name=password]`, "kangfu-demo"),
		chromedp.Submit(`input[name=password]`),
		chromedp.WaitVisible(`[data-testid=who]`),
	)
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	rawKey := regexp.MustCompile(`\b(rewards|incentive|flash|points|rule)[._][a-z_.]+\b|%!|\[[a-z_]+\.[a-z_.]+\]`)
	check := func(shot, sel string, want ...string) {
		t.Helper()
		if err := chromedp.Do(tctx, chromedp.WaitVisible(sel)); err != nil {
			t.Fatalf("%s: %v", shot, err)
		}
		text, err := chromedp.Run(tctx, chromedp.Evaluate[string](`(document.querySelector('main') || document.body).innerText`))
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("%s: the page lacks %q:\n%.2000s", shot, w, text)
			}
		}
		if k := rawKey.FindString(text); k != "" {
			t.Errorf("%s shows %q", shot, k)
		}
		if wide, _ := chromedp.Run(tctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`)); wide {
			culprit, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll('body *')).filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1).slice(-3).map((e) => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)).join(' | ')`))
			t.Errorf("%s scrolls sideways at 360 px: %s", shot, culprit)
		}
		saveScreenshot(t, tctx, shot)
	}

	// The catalogue: cash is refused, soap goes in.
	err = chromedp.Do(tctx,
		chromedp.Navigate(base+"/orgs/"+orgID+"/rewards"),
		chromedp.WaitVisible(`[data-testid=reward-add]`),
		chromedp.SendKeys(`[data-testid=reward-add] input[name=name]`, "现金红包"),
		chromedp.SendKeys(`[data-testid=reward-add] input[name=points]`, "19"),
		chromedp.SendKeys(`[data-testid=reward-add] input[name=stock]`, "1"),
		chromedp.Submit(`[data-testid=reward-add] input[name=name]`),
		chromedp.WaitVisible(`p.error[data-field=name]`),
	)
	if err != nil {
		t.Fatalf("cash refused: %v", err)
	}
	check("rewards-cash-refused-zh", `p.error`, "不能是现金")
	err = chromedp.Do(tctx,
		chromedp.SetValue(`[data-testid=reward-add] input[name=name]`, "洗衣液（大瓶）"),
		chromedp.Submit(`[data-testid=reward-add] input[name=name]`),
		chromedp.WaitVisible(`[data-testid=reward-row]`),
	)
	if err != nil {
		t.Fatalf("add a reward: %v", err)
	}
	check("rewards-zh", `[data-testid=reward-row]`, "积分与奖品", "洗衣液（大瓶）", "实物", "积分发放与兑换", "合计", "低于有效激励下限960分")

	// The app: points, the catalogue, the code.
	err = chromedp.Do(tctx,
		chromedp.Navigate(base+"/app/#activate="+code),
		chromedp.WaitVisible(`[data-testid=pin]`),
		chromedp.SendKeys(`[data-testid=pin]`, "246810"),
		chromedp.SendKeys(`[data-testid=pin2]`, "246810"),
		chromedp.Click(`[data-testid=activate]`),
		chromedp.WaitVisible(`body[data-loaded=today] [data-testid=go-points]`),
		chromedp.Click(`[data-testid=go-points]`),
		chromedp.WaitVisible(`body[data-loaded=points] [data-testid=points-balance]`),
		chromedp.Click(`[data-testid=points-code-button]`),
		chromedp.WaitVisible(`[data-testid=points-code]`),
	)
	if err != nil {
		t.Fatalf("app code: %v", err)
	}
	check("app-points-zh", `[data-testid=points-code]`, "现有积分：100分", "已连续3次检测阴性。下一次检测阴性可得25分。再坚持2次检测阴性，奖励恢复到35分。", "洗衣液（大瓶）：19分（还有1件）", "兑换码")
	shown, _ := chromedp.Run(tctx, chromedp.Text(`[data-testid=points-code]`))
	if !regexp.MustCompile(`^\d{3} \d{3}$`).MatchString(shown) {
		t.Fatalf("code shown %q", shown)
	}

	// The console: the worker enters the code.
	redeem := func(want string) {
		t.Helper()
		err := chromedp.Do(tctx,
			chromedp.Navigate(base+"/persons/"+pid+"/incentives"),
			chromedp.WaitVisible(`[data-testid=redeem-form]`),
			chromedp.SendKeys(`[data-testid=redeem-form] input[name=code]`, shown),
			chromedp.Submit(`[data-testid=redeem-form] input[name=code]`),
			chromedp.WaitVisible(want),
		)
		if err != nil {
			t.Fatalf("redeem: %v", err)
		}
	}
	redeem(`p.flash`) // the page after the redirect, not the form's own
	check("person-points-zh", `[data-testid=incentive-ledger]`, "积分 · "+name, "现有积分：81分", "再坚持2次检测阴性，奖励恢复到35分。", "兑换奖品", "洗衣液（大瓶）", "-19")
	// The last soap is gone.
	err = chromedp.Do(tctx,
		chromedp.Navigate(base+"/orgs/"+orgID+"/rewards"),
		chromedp.WaitVisible(`[data-testid=reward-stock]`),
	)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := chromedp.Run(tctx, chromedp.Text(`[data-testid=reward-stock]`)); strings.TrimSpace(st) != "0" {
		t.Errorf("stock after redeeming the last one: %q", st)
	}
	check("rewards-after-zh", `[data-testid=redemptions]`, name, "洗衣液（大瓶）")

	// English.
	if err := chromedp.Do(tctx, chromedp.Click(`[data-testid=lang-switch]`), chromedp.WaitReady(`html[lang=en]`), chromedp.WaitVisible(`[data-testid=who]`)); err != nil {
		t.Fatal(err)
	}
	check("rewards-en", `[data-testid=reward-row]`, "Rewards and points", "Goods", "Points issued and redeemed", "below the effective minimum of 960", "Recent redemptions")
	// The policy page carries the budget warning too.
	if err := chromedp.Do(tctx, chromedp.Navigate(base+"/policies/"+orgID)); err != nil {
		t.Fatal(err)
	}
	check("policy-warning-en", `[data-testid=incentive-budget-warning]`, "below the effective minimum of 960")
	if err := chromedp.Do(tctx, chromedp.Navigate(base+"/persons/"+pid+"/incentives")); err != nil {
		t.Fatal(err)
	}
	check("person-points-en", `[data-testid=incentive-ledger]`, "Points · "+name, "Balance: 81 points", "3 negative tests in a row. The next negative test earns 25 points. 2 more negative tests bring the reward back to 35 points.", "Reward redeemed")
	if err := chromedp.Do(tctx, chromedp.Navigate(base+"/app/#settings"), chromedp.WaitVisible(`body[data-ready="1"]`)); err != nil {
		t.Fatal(err)
	}
	if locked, _ := chromedp.Run(tctx, chromedp.Evaluate[bool](`document.body.dataset.locked === '1'`)); locked {
		if err := chromedp.Do(tctx, chromedp.SendKeys(`[data-testid=lock-pin]`, "246810"), chromedp.Click(`[data-testid=lock-submit]`)); err != nil {
			t.Fatal(err)
		}
	}
	err = chromedp.Do(tctx,
		chromedp.Click(`.tabs button[data-go=settings]`),
		chromedp.WaitVisible(`body[data-loaded=settings] [data-testid=lang-switch]`),
		chromedp.Click(`[data-testid=lang-switch]`),
		chromedp.WaitVisible(`html[lang=en] body[data-loaded=settings]`),
		chromedp.Click(`.tabs button[data-go=today]`),
		chromedp.WaitVisible(`body[data-loaded=today] [data-testid=go-points]`),
		chromedp.Click(`[data-testid=go-points]`),
		chromedp.WaitVisible(`body[data-loaded=points] [data-testid=points-balance]`),
		chromedp.Click(`[data-testid=points-code-button]`),
		chromedp.WaitVisible(`[data-testid=points-code]`),
	)
	if err != nil {
		t.Fatalf("app in English: %v", err)
	}
	check("app-points-en", `[data-testid=points-code]`, "Balance: 81 points", "3 negative tests in a row. Your next negative test earns 25 points. 2 more negative tests and your reward goes back up to 35 points.", "Reward redeemed", "The code works once")

	// A lead reverses the award (issue 14 §2): the reason, once; the
	// reversal row is not offered again.
	lctx := browsertest.New(t)
	ltctx, lcancel := context.WithTimeout(lctx, 90*time.Second)
	defer lcancel()
	tctx = ltctx
	err = chromedp.Do(tctx,
		chromedp.EmulateViewport(360, 740),
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(`input[name=username]`),
		chromedp.SendKeys(`input[name=username]`, "lead"),
		chromedp.SendKeys(`input[name=password]`, "kangfu-demo"),
		chromedp.Submit(`input[name=password]`),
		chromedp.WaitVisible(`[data-testid=who]`),
		chromedp.Navigate(base+"/persons/"+pid+"/incentives"),
		chromedp.WaitVisible(`[data-testid=incentive-ledger]`),
	)
	if err != nil {
		t.Fatalf("lead: %v", err)
	}
	if n, _ := chromedp.Run(tctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid^=reverse-]').length`)); n != 1 {
		t.Fatalf("the lead is offered %d reversals, want 1 (the award, not the redemption)", n)
	}
	err = chromedp.Do(tctx,
		chromedp.Click(`[data-testid^=reverse-] summary`),
		chromedp.WaitVisible(`[data-testid^=reverse-] input[name=reason]`),
	)
	if err != nil {
		t.Fatal(err)
	}
	check("person-points-reverse-open-zh", `[data-testid^=reverse-] input[name=reason]`, "冲正会新增一条负分记录")
	err = chromedp.Do(tctx,
		chromedp.SendKeys(`[data-testid^=reverse-] input[name=reason]`, "检测记录录错了人"),
		chromedp.Submit(`[data-testid^=reverse-] input[name=reason]`),
		chromedp.WaitVisible(`p.flash`),
	)
	if err != nil {
		t.Fatalf("reverse: %v", err)
	}
	check("person-points-reversed-zh", `[data-testid=incentive-ledger]`, "积分 · "+name, "已冲正这条积分记录", "现有积分：-19分", "冲正", "-100", "检测记录录错了人")
	if n, _ := chromedp.Run(tctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid^=reverse-]').length`)); n != 0 {
		t.Errorf("after the reversal %d reversals are still offered", n)
	}
	if err := chromedp.Do(tctx, chromedp.Click(`[data-testid=lang-switch]`), chromedp.WaitReady(`html[lang=en]`), chromedp.WaitVisible(`[data-testid=incentive-ledger]`)); err != nil {
		t.Fatal(err)
	}
	check("person-points-reversed-en", `[data-testid=incentive-ledger]`, "Points · "+name, "Balance: -19 points", "Record withdrawal of consent",
		"The balance does not reach any reward")
	// The consent withdrawn (issue 14 §1): the page says so and offers a new one.
	err = chromedp.Do(tctx,
		chromedp.Click(`[data-testid=consent] summary`),
		chromedp.WaitVisible(`[data-testid=revoke-form] input[name=reason]`),
		chromedp.SendKeys(`[data-testid=revoke-form] input[name=reason]`, "本人不再参加"),
		chromedp.Submit(`[data-testid=revoke-form] input[name=reason]`),
		chromedp.WaitVisible(`[data-testid=consent-form]`),
	)
	if err != nil {
		t.Fatalf("withdraw consent: %v", err)
	}
	check("person-points-withdrawn-en", `[data-testid=consent-form]`, "Points · "+name, "Consent withdrawn on", "本人不再参加", "Record the person's consent to incentives")
}
