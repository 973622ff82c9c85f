package demo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
)

// The demo caseload (issue 3 §9), in the spirit of the seed story: a factory
// compound where, from 2020, a worker keeps one file per person with a
// working group of the worker, community police, a medical worker, family,
// a volunteer and the factory's security head (治保主任, a local role, R7).
// Names, ID numbers and phone numbers are fictional (ID numbers carry a
// valid GB 11643 check character; area code 460203 is 吉阳区).
//
// Everything goes through the store's methods, so timelines, status events
// and the audit log are real. The store's clock is the real one: current
// measures are dated relative to today (a 3-year term decided in 2021 has
// ended by now), earlier ones lie in 2020–2021, and effective dates are
// applied in order (a transition cannot predate the current status).

const personsMarker = "demo:persons"

// scenario is what happens to one demo person.
type scenario int

const (
	scExecuting   scenario = iota // reported, agreement signed, working group
	scHistory                     // 2020–21 社区戒毒 ended by 强戒 (R14), now 社区康复 after it
	scResumed                     // executing, suspended for a detention and resumed (R13)
	scOnLeave                     // executing, on approved leave (R8)
	scSuspended                   // executing, now suspended: detained (R13)
	scTerminated                  // ended by a 强戒 decision (R14)
	scReleased                    // 2020–21 measure, released at term end (R15, R16)
	scPending                     // decision received, not yet reported (R1, R5)
	scOverdue                     // received more than 15 days ago, not reported: deemed refusal (R2)
	scTransferred                 // moved to another county (R11)
)

var surnames = []rune("符黎王陈吉林邢李羊麦云周吴蒲郑黄韩何梁张")
var givenChars = []rune("明伟海强军华平志国建文春亮勇永清光辉德成秀芳丽红英玉兰梅霞燕")

// loadPersons loads the demo caseload once (its own marker).
func loadPersons(ctx context.Context, db *store.DB) (int, error) {
	first, err := db.Mark(ctx, personsMarker)
	if err != nil || !first {
		return 0, err
	}
	l, err := newPersonLoader(ctx, db)
	if err != nil {
		return 0, err
	}
	return l.load(ctx)
}

type personLoader struct {
	db                           *store.DB
	rnd                          *rand.Rand
	today                        casework.Date
	factory, community2, yazhou  *casework.Org
	worker, worker2, lead        *casework.Actor
	workerID, policeID, medicID  string
	worker2ID                    string
	receiving                    *casework.Actor
	usedNames, usedIDs, usedTels map[string]bool
	seq                          int
}

func newPersonLoader(ctx context.Context, db *store.DB) (*personLoader, error) {
	sys := casework.SystemActor("demo")
	l := &personLoader{db: db, rnd: rand.New(rand.NewPCG(2020, 2021)), usedNames: map[string]bool{}, usedIDs: map[string]bool{}, usedTels: map[string]bool{},
		today: casework.DateOf(db.Now(), casework.LoadLocation(casework.DefaultTimeZone))}
	orgs, err := db.ListOrgs(ctx, sys, store.OrgFilter{})
	if err != nil {
		return nil, err
	}
	byName := map[string]*casework.Org{}
	for _, o := range orgs {
		byName[o.Name] = o
	}
	l.factory, l.community2 = byName["安椰厂区（示例工厂社区）"], byName["海湾社区（示例）"]
	city := byName["三亚市"]
	if l.factory == nil || l.community2 == nil || city == nil {
		return nil, fmt.Errorf("demo persons: the demo org tree is missing")
	}
	// A second county for the transfer (R11: the receiving office may be anywhere).
	parent := city
	for _, s := range []struct {
		kind       casework.OrgKind
		name, code string
	}{{casework.KindCounty, "崖州区", "460204000000"}, {casework.KindTownship, "港湾街道（示例）", ""}, {casework.KindCommunity, "南山社区（示例）", ""}} {
		o := byName[s.name]
		if o == nil {
			if o, err = db.CreateOrg(ctx, sys, casework.OrgInput{ParentID: parent.ID, Kind: s.kind, Name: s.name, AreaCode: s.code}); err != nil {
				return nil, fmt.Errorf("demo org %s: %w", s.name, err)
			}
		}
		parent = o
	}
	l.yazhou = parent
	l.receiving = casework.SystemActor("崖州区禁毒办（示例）")
	actor := func(username string) (*casework.Actor, error) {
		id, err := db.UserIDByName(ctx, username)
		if err != nil {
			return nil, fmt.Errorf("demo user %s: %w", username, err)
		}
		u, err := db.GetUser(ctx, sys, id)
		if err != nil {
			return nil, err
		}
		return &casework.Actor{UserID: u.ID, Username: u.Username, Name: u.DisplayName, Grants: u.Grants}, nil
	}
	if l.worker, err = actor("worker"); err != nil {
		return nil, err
	}
	if l.worker2, err = actor("worker2"); err != nil {
		return nil, err
	}
	if l.lead, err = actor("lead"); err != nil {
		return nil, err
	}
	police, err := actor("police")
	if err != nil {
		return nil, err
	}
	medic, err := actor("counsellor")
	if err != nil {
		return nil, err
	}
	l.workerID, l.worker2ID, l.policeID, l.medicID = l.worker.UserID, l.worker2.UserID, police.UserID, medic.UserID
	return l, nil
}

// plan is the demo caseload: 45 files at the factory (one of them since
// transferred to 崖州区) and 4 in 海湾社区.
func plan() []scenario {
	var p []scenario
	add := func(s scenario, n int) {
		for range n {
			p = append(p, s)
		}
	}
	add(scExecuting, 26)
	add(scHistory, 4)
	add(scResumed, 1)
	add(scOnLeave, 1)
	add(scSuspended, 1)
	add(scTerminated, 1)
	add(scReleased, 6)
	add(scPending, 3)
	add(scOverdue, 1)
	add(scTransferred, 1)
	return p
}

func (l *personLoader) load(ctx context.Context) (int, error) {
	n := 0
	for i, s := range plan() {
		if err := l.person(ctx, l.factory, l.worker, s, i); err != nil {
			return n, fmt.Errorf("demo person %d: %w", i+1, err)
		}
		n++
	}
	for i, s := range []scenario{scExecuting, scExecuting, scHistory, scPending} {
		if err := l.person(ctx, l.community2, l.worker2, s, 100+i); err != nil {
			return n, fmt.Errorf("demo person in 海湾社区 %d: %w", i+1, err)
		}
		n++
	}
	return n, nil
}

func (l *personLoader) name() string {
	for {
		r := []rune{surnames[l.rnd.IntN(len(surnames))], givenChars[l.rnd.IntN(len(givenChars))]}
		if l.rnd.IntN(3) > 0 {
			r = append(r, givenChars[l.rnd.IntN(len(givenChars))])
		}
		if s := string(r); !l.usedNames[s] {
			l.usedNames[s] = true
			return s
		}
	}
}

// idNumber returns a fictional 吉阳区 ID number with a valid check character
// (GB 11643); the 17th digit is odd for a man.
func (l *personLoader) idNumber(male bool) string {
	for {
		birth := casework.NewDate(1968+l.rnd.IntN(33), time.Month(1+l.rnd.IntN(12)), 1+l.rnd.IntN(28))
		s := 10 + l.rnd.IntN(89)
		sexDigit := 2 * l.rnd.IntN(5)
		if male {
			sexDigit++
		}
		body := fmt.Sprintf("460203%04d%02d%02d%02d%d", birth.Year, birth.Month, birth.Day, s, sexDigit)
		id := body + string(casework.IDCheckChar(body))
		if !l.usedIDs[id] {
			l.usedIDs[id] = true
			return id
		}
	}
}

func (l *personLoader) phone(prefix string) string {
	for {
		p := fmt.Sprintf("%s%08d", prefix, l.rnd.IntN(100000000))
		if !l.usedTels[p] {
			l.usedTels[p] = true
			return p
		}
	}
}

func (l *personLoader) pick(s ...string) string { return s[l.rnd.IntN(len(s))] }

// days returns a date n days before today.
func (l *personLoader) ago(n int) casework.Date { return l.today.AddDays(-n) }

func (l *personLoader) measure(kind casework.MeasureKind, received, reported casework.Date) casework.MeasureInput {
	l.seq++
	code := "社戒决字"
	if kind == casework.MeasureRehab {
		code = "社康决字"
	}
	return casework.MeasureInput{Kind: kind, DecisionNumber: fmt.Sprintf("三公吉（禁）%s〔%d〕%03d号", code, received.Year, l.seq),
		DecisionAuthority: "三亚市公安局吉阳分局", DecisionDate: received.AddDays(-1 - l.rnd.IntN(4)), ReceivedDate: received,
		ReportDate: reported, TermMonths: 36}
}

func (l *personLoader) person(ctx context.Context, place *casework.Org, worker *casework.Actor, s scenario, i int) error {
	male := l.rnd.IntN(10) < 8
	name := l.name()
	surname := string([]rune(name)[:1])
	reg := casework.NewDate(2020+l.rnd.IntN(2), time.Month(1+l.rnd.IntN(12)), 1+l.rnd.IntN(28))
	in := casework.PersonInput{
		OrgID: place.ID, Name: name, IDNumber: l.idNumber(male), Phone: l.phone("138"),
		Ethnicity:     l.pick("汉族", "汉族", "汉族", "黎族"),
		Education:     l.pick("小学", "初中", "初中", "高中", "中专"),
		MaritalStatus: l.pick("已婚", "已婚", "未婚", "离异"),
		Employment:    l.pick("厂区职工", "厂区职工", "厂区职工", "外出务工（已报备）", "个体经营", "厂区临时工"),
		HouseholdAddr: fmt.Sprintf("海南省三亚市吉阳区安椰厂区职工宿舍%d栋%d号", 1+l.rnd.IntN(12), 101+l.rnd.IntN(500)),
		Contacts:      []casework.Contact{{Name: surname + l.pick("母", "父", "妻", "兄", "姐"), Relation: "家属", Phone: l.phone("139")}},
		HealthNotes:   l.pick("身体状况良好", "无重大疾病", "乙肝病毒携带", "轻度焦虑，心理辅导中", "身体状况良好"),
		DrugHistory: casework.DrugHistory{Substances: []string{l.pick("甲基苯丙胺（冰毒）", "甲基苯丙胺（冰毒）", "海洛因", "氯胺酮（K粉）")},
			FirstUseDate: reg.AddDays(-200 - l.rnd.IntN(1500)), FirstRegistered: reg},
	}
	if place == l.community2 {
		in.HouseholdAddr = fmt.Sprintf("海南省三亚市吉阳区海湾社区%d巷%d号", 1+l.rnd.IntN(20), 1+l.rnd.IntN(60))
	}
	in.ResidenceAddr = in.HouseholdAddr
	var m casework.MeasureInput
	switch s {
	case scReleased:
		received := casework.NewDate(2020+l.rnd.IntN(2), time.Month(1+l.rnd.IntN(12)), 1+l.rnd.IntN(28))
		kind := casework.MeasureTreatment
		if l.rnd.IntN(2) == 0 {
			kind = casework.MeasureRehab
		}
		m = l.measure(kind, received, received.AddDays(2+l.rnd.IntN(10)))
		in.DrugHistory.FirstRegistered = received.AddDays(-30)
	case scHistory:
		received := casework.NewDate(2020, time.Month(3+l.rnd.IntN(9)), 1+l.rnd.IntN(28))
		m = l.measure(casework.MeasureTreatment, received, received.AddDays(3+l.rnd.IntN(8)))
		in.DrugHistory.FirstRegistered = received.AddDays(-20)
	case scPending:
		m = l.measure(casework.MeasureRehab, l.ago(1+4*l.rnd.IntN(3)), casework.Date{})
	case scOverdue:
		m = l.measure(casework.MeasureTreatment, l.ago(20), casework.Date{}) // deadline 5 days ago (R1, R2)
	default:
		// A current measure: received within the last three years, so the
		// term has not run out (R3, R4).
		received := l.ago(60 + l.rnd.IntN(900))
		if s == scResumed {
			received = l.ago(200 + l.rnd.IntN(300)) // room for a suspension and its end
		}
		kind := casework.MeasureRehab // after 强制隔离戒毒, the usual path
		if l.rnd.IntN(5) < 2 {
			kind = casework.MeasureTreatment
		}
		if kind == casework.MeasureRehab {
			in.DrugHistory.PriorMeasures = fmt.Sprintf("%d年强制隔离戒毒二年", reg.Year)
		}
		m = l.measure(kind, received, received.AddDays(1+l.rnd.IntN(12)))
	}
	p, err := l.db.CreatePerson(ctx, worker, in, &m)
	if err != nil {
		return err
	}
	id := p.ID
	if m.ReportDate.IsZero() {
		return nil // pending report: no agreement nor working group yet
	}
	if err := l.group(ctx, worker, place, id, surname, in.Contacts[0].Name, m.ReportDate); err != nil {
		return err
	}
	tr := func(a *casework.Actor, act casework.Action, eff casework.Date, reason string) error {
		_, err := l.db.Transition(ctx, a, id, store.TransitionInput{Action: act, EffectiveDate: eff, Reason: reason})
		return err
	}
	switch s {
	case scReleased:
		end, err := casework.TermEnd(m.Kind, m.ReportDate, m.TermMonths, 0)
		if err != nil {
			return err
		}
		return tr(worker, casework.ActRelease, end, "期满解除 (R15)")
	case scHistory:
		// 2020–21: relapse, 强制隔离戒毒 decided, the 社区戒毒 ends (R14);
		// after two years in 强戒, 社区康复 at home (R4).
		ended := m.ReportDate.AddDays(150 + l.rnd.IntN(300))
		if err := tr(l.lead, casework.ActTerminate, ended, "复吸，被决定强制隔离戒毒二年 (R14)"); err != nil {
			return err
		}
		received := ended.AddYears(2).AddDays(3 + l.rnd.IntN(10))
		if received.Before(l.ago(1000)) {
			received = l.ago(1000 - l.rnd.IntN(200))
		}
		m2 := l.measure(casework.MeasureRehab, received, received.AddDays(1+l.rnd.IntN(7)))
		if _, err := l.db.AddMeasure(ctx, worker, id, m2); err != nil {
			return err
		}
		return l.group(ctx, worker, place, id, surname, in.Contacts[0].Name, m2.ReportDate)
	case scResumed:
		from := m.ReportDate.AddDays(30 + l.rnd.IntN(20))
		if err := tr(worker, casework.ActSuspend, from, "因违法被行政拘留十日 (R13)"); err != nil {
			return err
		}
		return tr(worker, casework.ActResume, from.AddDays(10), "拘留期满释放，继续执行 (R13)")
	case scOnLeave:
		// 请假 comes only from an approved leave (R28, issue 18 §1): a paper
		// request with destination and dates, approved by the street's lead;
		// its first day has come, so the approval puts the measure on leave.
		lv, err := l.db.CreateLeave(ctx, worker, id, store.LeaveCreate{LeaveInput: casework.LeaveInput{Kind: casework.LeaveKindLeave,
			Province: "460000", City: "琼中黎族苗族自治县", From: l.ago(3), To: l.ago(-4), Reason: "回琼中老家探亲七日"}})
		if err != nil {
			return fmt.Errorf("demo leave of %s: %w", surname, err)
		}
		_, err = l.db.StepLeave(ctx, l.lead, lv.ID, store.LeaveStep{Action: casework.LeaveApprove, Reason: "同意，每日在目的地签到，按期销假"})
		return err
	case scSuspended:
		return tr(worker, casework.ActSuspend, l.ago(6), "因涉嫌违法被行政拘留十五日 (R13)")
	case scTerminated:
		return tr(l.lead, casework.ActTerminate, l.ago(40), "复吸，被决定强制隔离戒毒二年 (R14)")
	case scTransferred:
		_, err := l.db.StartTransfer(ctx, l.lead, id, l.yazhou.ID, "随家人迁居崖州区，申请变更执行地 (R11)")
		tid, lerr := l.transferOf(ctx, id, "pending")
		if lerr != nil || tid == "" {
			return errors.Join(err, lerr, errors.New("transfer not started"))
		}
		_, err = l.db.DecideTransfer(ctx, l.receiving, tid, store.TransferDecision{Accept: true, Reason: "材料齐全，同意接收"})
		if done, lerr := l.transferOf(ctx, id, "accepted"); lerr != nil || done != tid {
			return errors.Join(err, lerr, errors.New("transfer not accepted"))
		}
	}
	return nil
}

// transferOf returns the id of the person's transfer in state. The demo
// looks the transfer up rather than trusting the result of StartTransfer and
// DecideTransfer: on PostgreSQL their read-back (GetTransfer) currently
// fails after the commit (SELECT … FOR UPDATE in a read-only transaction,
// transferByID in transfers.go), though the transfer itself is done.
func (l *personLoader) transferOf(ctx context.Context, personID, state string) (string, error) {
	ts, err := l.db.ListTransfers(ctx, casework.SystemActor("demo"), state, false)
	if err != nil {
		return "", err
	}
	for _, t := range ts {
		if t.PersonID == personID {
			return t.ID, nil
		}
	}
	return "", nil
}

// group records the agreement (R6) and the working group (R7) of the
// measure in force.
func (l *personLoader) group(ctx context.Context, worker *casework.Actor, place *casework.Org, id, surname, family string, reported casework.Date) error {
	agreed := reported.AddDays(l.rnd.IntN(3))
	if agreed.After(l.today) {
		agreed = l.today
	}
	if _, err := l.db.UpdateMeasure(ctx, worker, id, store.MeasureUpdate{AgreementDate: &agreed}); err != nil {
		return err
	}
	members := []store.GroupMember{
		{Role: "worker", UserID: worker.UserID},
		{Role: "police", UserID: l.policeID},
		// The counsellor reads the files a lead assigns it (psych.go), not
		// every file whose working group names it (issue 18 item 11).
		{Role: "medical", Name: "赵老师（心理）", Note: "心理咨询师"},
		{Role: "family", Name: family, Note: "家属"},
		{Role: "volunteer", Name: l.pick("吴海燕", "林晓春", "邢志成", "麦小兰"), Note: "禁毒志愿者"},
	}
	if place == l.factory {
		members = append(members, store.GroupMember{Role: "治保主任", Name: "王建华", Note: "厂区治保主任"})
	} else {
		members = append(members, store.GroupMember{Role: "网格员", Name: "郑丽红", Note: "社区网格员"})
	}
	for _, g := range members {
		if err := l.db.AddGroupMember(ctx, worker, id, g); err != nil {
			return fmt.Errorf("working group %s: %w", g.Role, err)
		}
	}
	return nil
}
