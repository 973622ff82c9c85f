package dossier

import (
	"fmt"
	"slices"
	"strings"

	"kangfu/internal/casework"
	"kangfu/internal/store"
)

// Templates are the standard documents Kangfu generates (issue 3 §5), each
// filed under the document kind of the same name.
var Templates = []string{"agreement", "working_group", "report_notice", "release_notice", "help_plan"}

// Generated is a document made from a template.
type Generated struct {
	Kind  string
	Title string
	PDF   []byte
}

// Generate fills a template with the person's file. The documents are in
// Chinese: they are official papers. The ID number stays masked (R36):
// staff write the full number in by hand on the signed copy if the office
// requires it.
func Generate(d *store.Dossier, template string) (*Generated, error) {
	if !slices.Contains(Templates, template) {
		return nil, casework.Invalid("template", "未知的文书模板：%s（可选：%s）", "unknown template %s (one of %s)",
			template, strings.Join(Templates, ", "))
	}
	m := d.Current()
	if m == nil {
		return nil, casework.Errorf(casework.ECONFLICT, "该人员还没有措施，不能生成文书", "the person has no measure yet: nothing to generate")
	}
	var title string
	var draw func(w *writer, d *store.Dossier, m *store.Measure)
	kind := m.Kind.Label("zh")
	switch template {
	case "agreement":
		title, draw = kind+"协议书", drawAgreement
	case "working_group":
		title, draw = kind+"工作小组名单", drawWorkingGroup
	case "report_notice":
		title, draw = kind+"报到通知", drawReportNotice
	case "release_notice":
		// R15: the release notice follows expiry; before it there is nothing to notify.
		if m.Status != casework.StatusReleased {
			return nil, casework.Msg(casework.ECONFLICT, fmt.Sprintf("措施尚未解除（当前状态：%s），不能生成解除通知书", m.Status.Label("zh")),
				fmt.Sprintf("the measure is not released (status: %s): no release notice yet", m.Status.Label("en")))
		}
		title, draw = "解除"+kind+"通知书", drawReleaseNotice
	case "help_plan": // help.go
		if d.Help == nil {
			return nil, casework.Errorf(casework.ECONFLICT, "该人员还没有帮扶计划，请先填写", "the person has no help plan yet: write it first")
		}
		title, draw = "帮扶计划书", drawHelpPlan
	}
	w, err := newWriter(title+"（"+d.Person.Name+"）", title+" · "+d.Person.Name, d.At)
	if err != nil {
		return nil, err
	}
	draw(w, d, m)
	b, err := w.bytes()
	if err != nil {
		return nil, err
	}
	return &Generated{Kind: template, Title: title + "（" + d.Person.Name + "）", PDF: b}, nil
}

func sexZH(s string) string {
	switch s {
	case "M":
		return "男"
	case "F":
		return "女"
	}
	return "—"
}

func (w *writer) blankLine(label string) { w.para(label+"________________________", 11.5) }

func today(d *store.Dossier) string {
	return casework.DateOf(d.At, location(d)).String()
}

func personFacts(d *store.Dossier) []Pair {
	p := d.Person
	return []Pair{
		{"姓名", p.Name}, {"性别", sexZH(p.Sex)}, {"出生日期", dateStr(p.BirthDate)},
		{"公民身份号码", orDash(p.IDMasked)}, {"户籍地", orDash(p.HouseholdAddr)}, {"现居住地", orDash(p.ResidenceAddr)},
		{"联系电话", orDash(p.PhoneMasked)},
	}
}

// drawAgreement: 社区戒毒/康复协议书 (戒毒条例 Art 16, 38; R6). It states the
// measures, the person's duties and the liability for breach, including
// the statutory "serious violation" thresholds (R9) and the duty to
// report to the police (R10).
func drawAgreement(w *writer, d *store.Dossier, m *store.Measure) {
	kind := m.Kind.Label("zh")
	tw := d.Township().Name
	w.centered(kind+"协议书", 20)
	w.space(8)
	w.para("甲方："+tw+"（"+kind+"工作领导小组）", 11.5)
	w.para("乙方："+d.Person.Name, 11.5)
	w.pairs(personFacts(d), 10.5)
	term := "自报到之日起计算"
	if !m.ReportDate.IsZero() {
		term = fmt.Sprintf("自 %s 起至 %s 止", m.ReportDate, dateStr(m.TermEnd))
	}
	law := "《中华人民共和国禁毒法》和《戒毒条例》"
	w.para(fmt.Sprintf("    根据%s的规定，依据%s于 %s 作出的 %s 决定（决定书文号：%s），乙方在%s执行%s。为帮助乙方戒除毒瘾、回归社会，经甲乙双方协商，签订本协议。",
		law, m.DecisionAuthority, m.DecisionDate, kind, m.DecisionNumber, m.PlaceOrgName, kind), 11.5)
	w.para(fmt.Sprintf("    一、%s期限为 %d 个月，%s。执行地点为%s。乙方的戒毒康复工作由%s工作小组负责，小组成员见《工作小组名单》，责任专干为%s。",
		kind, m.TermMonths, term, m.PlaceOrgName, kind, orDash(m.WorkerName)), 11.5)
	w.para("    二、乙方应当遵守下列规定：（一）遵守国家法律法规，自觉履行本协议，不得吸食、注射毒品；（二）遵守执行地公安机关关于定期检测的规定，按照通知接受检测；"+
		"（三）离开执行地所在县（市、区）3日以上的，须事先书面报告；（四）按要求定期报告个人情况，接受访谈、教育和帮扶；（五）住址、联系方式变更时及时告知工作小组。", 11.5)
	w.para("    三、甲方应当根据乙方的情况，为乙方提供戒毒康复指导、心理辅导、职业技能培训、职业指导和就学、就业、就医等方面的帮助，并依法保护乙方的个人信息。", 11.5)
	w.para("    四、乙方有下列情形之一的，属于严重违反本协议：（一）逃避或者拒绝接受检测3次以上的；（二）擅自离开执行地所在县（市、区）3次以上或者累计超过30日的。", 11.5)
	w.para("    五、乙方拒绝接受"+kind+"、在"+kind+"期间又吸食、注射毒品或者严重违反本协议的，甲方应当及时向公安机关报告，由公安机关依法处理。", 11.5)
	w.para("    六、本协议自双方签字（盖章）之日起生效，一式三份，甲乙双方各执一份，一份存入乙方档案。", 11.5)
	w.space(24)
	w.para("甲方（盖章）："+tw, 11.5)
	w.blankLine("甲方代表（签名）：")
	w.space(10)
	w.blankLine("乙方（签名）：")
	w.blankLine("签订日期：")
	w.space(10)
	w.right("生成日期："+today(d), 9)
}

// drawWorkingGroup: 工作小组名单 (戒毒条例 Art 17; R7).
func drawWorkingGroup(w *writer, d *store.Dossier, m *store.Measure) {
	kind := m.Kind.Label("zh")
	w.centered(kind+"工作小组名单", 20)
	w.space(8)
	w.pairs([]Pair{
		{"戒毒（康复）人员", d.Person.Name}, {"公民身份号码", orDash(d.Person.IDMasked)},
		{"措施", kind}, {"决定书文号", m.DecisionNumber}, {"决定机关", m.DecisionAuthority},
		{"执行地", m.PlaceOrgName}, {"负责乡镇（街道）", d.Township().Name}, {"责任专干", orDash(m.WorkerName)},
	}, 10.5)
	rows := [][]string{{"序号", "职责", "姓名", "备注"}}
	for i, g := range m.Group {
		rows = append(rows, []string{fmt.Sprint(i + 1), RoleLabel("zh", g.Role), g.Name, g.Note})
	}
	if len(m.Group) == 0 {
		rows = append(rows, []string{"", "（尚未登记成员）", "", ""})
	}
	w.table([]float64{0.1, 0.25, 0.25, 0.4}, rows, 10.5)
	// R7: the register shows what the group still lacks, or why it has no family member.
	if gaps := groupGapsZH(m); gaps != "" {
		w.para("    尚缺成员："+gaps+"（工作小组至少应有专职工作人员、社区民警和一名家庭成员或监护人）。", 11)
	}
	if m.GroupFamilyReason != "" {
		w.para("    未登记家庭成员的原因："+m.GroupFamilyReason, 11)
	}
	w.para("    工作小组成员依照《戒毒条例》第十七条，由专职工作人员、社区民警、社区医务人员、戒毒人员的家庭成员以及禁毒志愿者等组成，负责落实"+kind+"各项措施。", 11)
	w.space(20)
	w.right(d.Township().Name+"（盖章）", 11.5)
	w.right("日期："+today(d), 11.5)
}

// drawReportNotice: 报到通知 (戒毒条例 Art 14, 38; R1, R2, R5).
func drawReportNotice(w *writer, d *store.Dossier, m *store.Measure) {
	kind := m.Kind.Label("zh")
	tw := d.Township().Name
	w.centered(kind+"报到通知", 20)
	w.space(12)
	w.para(d.Person.Name+"（公民身份号码："+orDash(d.Person.IDMasked)+"）：", 12)
	w.para(fmt.Sprintf("    %s于 %s 作出决定（决定书文号：%s），责令你接受%s，你于 %s 收到决定书。",
		m.DecisionAuthority, m.DecisionDate, m.DecisionNumber, kind, dateStr(m.ReceivedDate)), 12)
	w.para(fmt.Sprintf("    根据《戒毒条例》的规定，请你自收到决定书之日起15日内，即于 %s 前（含当日），持本通知和身份证件到%s（执行地：%s）报到，并签订%s协议。",
		dateStr(m.ReportDeadline), tw, m.PlaceOrgName, kind), 12)
	w.para("    无正当理由逾期不报到的，视为拒绝接受"+kind+"，公安机关可以依法作出强制隔离戒毒决定。", 12)
	if m.WorkerName != "" {
		w.para("    联系人（责任专干）："+m.WorkerName, 12)
	}
	w.space(30)
	w.right(tw+"（盖章）", 12)
	w.right(today(d), 12)
	w.space(30)
	w.blankLine("被通知人签收：")
	w.blankLine("签收日期：")
}

// drawReleaseNotice: 解除社区戒毒/康复通知书 (戒毒条例 Art 23, 40; R15, R16).
func drawReleaseNotice(w *writer, d *store.Dossier, m *store.Measure) {
	kind := m.Kind.Label("zh")
	w.centered("解除"+kind+"通知书", 20)
	w.space(12)
	w.para(d.Person.Name+"（公民身份号码："+orDash(d.Person.IDMasked)+"）：", 12)
	w.para(fmt.Sprintf("    你依据%s作出的决定（决定书文号：%s），自 %s 起在%s执行%s，期限 %d 个月。", m.DecisionAuthority, m.DecisionNumber,
		dateStr(m.ReportDate), m.PlaceOrgName, kind, m.TermMonths), 12)
	w.para(fmt.Sprintf("    根据《戒毒条例》的规定，你的%s期限已届满，自 %s 起解除%s。", kind, dateStr(m.EndedOn), kind), 12)
	w.para("    解除后，请继续保持操守，远离毒品。戒断三年未复吸的，依照规定不再实行动态管控"+noRelapse(m)+"。", 12)
	w.para("    本通知书一式三份，本人及家属、执行地乡镇（街道）、公安机关各存一份。", 12)
	w.space(30)
	w.right(m.DecisionAuthority+"（盖章）", 12)
	w.right(today(d), 12)
	w.space(30)
	w.blankLine("本人签收：")
	w.blankLine("家属签收：")
}

func noRelapse(m *store.Measure) string {
	if m.NoRelapseOn.IsZero() {
		return ""
	}
	return "（" + m.NoRelapseOn.String() + "）"
}

// groupGapsZH names the required members the group lacks (R7), "" for none.
func groupGapsZH(m *store.Measure) string {
	var roles []string
	for _, g := range m.Group {
		roles = append(roles, g.Role)
	}
	var out []string
	for _, g := range casework.GroupGaps(roles, m.GroupFamilyReason) {
		out = append(out, casework.GroupRoleLabel(g, "zh"))
	}
	return strings.Join(out, "、")
}
