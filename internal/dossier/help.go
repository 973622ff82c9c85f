package dossier

import (
	"fmt"

	"kangfu/internal/store"
)

// drawHelpPlan: 帮扶计划书 (issue 11 §4; DOMAIN §1.7 lists the help plan
// among the file's documents): the needs found, the goals with their
// actions, deadlines and owners, the review dates, and signatures.
func drawHelpPlan(w *writer, d *store.Dossier, m *store.Measure) {
	p := d.Help
	w.centered("帮扶计划书", 20)
	w.space(8)
	w.pairs([]Pair{
		{"帮扶对象", d.Person.Name}, {"公民身份号码", orDash(d.Person.IDMasked)}, {"措施", m.Kind.Label("zh")},
		{"执行地", m.PlaceOrgName}, {"责任专干", orDash(m.WorkerName)}, {"计划开始", dateStr(p.StartOn)},
		{"下次回顾", dateStr(p.NextReview)},
	}, 10.5)
	w.heading("一、需求评估", false)
	w.para("    "+orDash(p.Needs), 11)
	w.heading("二、帮扶目标与措施", false)
	rows := [][]string{{"序号", "目标", "措施", "期限", "责任人"}}
	for i, g := range p.Goals {
		rows = append(rows, []string{fmt.Sprint(i + 1), g.Goal, g.Actions, dateStr(g.Due), g.Owner})
	}
	w.table([]float64{0.08, 0.27, 0.35, 0.15, 0.15}, rows, 10.5)
	if len(p.Reviews) > 0 {
		w.heading("三、回顾记录", false)
		rows = [][]string{{"回顾日期", "情况", "下次回顾"}}
		for _, r := range p.Reviews {
			rows = append(rows, []string{dateStr(r.ReviewedOn), r.Note, dateStr(r.NextReview)})
		}
		w.table([]float64{0.2, 0.6, 0.2}, rows, 10.5)
	}
	w.space(24)
	w.blankLine("帮扶对象签名：")
	w.blankLine("责任专干签名：")
	w.right(d.Township().Name+"（盖章）", 11.5)
	w.right("日期："+today(d), 11.5)
}
