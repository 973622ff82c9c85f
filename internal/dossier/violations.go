package dossier

// violations.go: the notices of the handling ladder (R29: 劝诫书, 告诫书,
// 通报) and the serious-case report to the police (R9, R10: 报告书),
// generated from the file, stored in the blob store and filed with the
// step that uses them (one transaction in the store).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"kangfu/internal/casework"
	"kangfu/internal/store"
)

// LadderStep checks the step, generates its notice and records both.
func (s *Service) LadderStep(ctx context.Context, actor *casework.Actor, violationID string, in casework.LadderInput) (*store.Violation, error) {
	v, err := s.DB.LadderCheck(ctx, actor, violationID, in)
	if err != nil {
		return nil, err
	}
	title := in.Step.Label("zh") + "书"
	if in.Step == casework.StepPolice {
		title = "违反协议情况通报"
	}
	doc, err := s.generate(ctx, actor, v.PersonID, in.Step.DocumentKind(), title, func(w *writer, d *store.Dossier, m *store.Measure) {
		drawLadder(w, d, m, v, in)
	})
	if err != nil {
		return nil, err
	}
	return s.DB.AddLadderStep(ctx, actor, violationID, in, doc)
}

// ReportCase checks the report step, generates the 报告书 and records the
// report with its recipient and time (R10).
func (s *Service) ReportCase(ctx context.Context, actor *casework.Actor, caseID string, in casework.CaseStep) (*store.SeriousCase, error) {
	in.Action = casework.CaseReport
	c, err := s.DB.CaseCheck(ctx, actor, caseID, in)
	if err != nil {
		return nil, err
	}
	doc, err := s.generate(ctx, actor, c.PersonID, "violation_report", "严重违反协议情况报告书", func(w *writer, d *store.Dossier, m *store.Measure) {
		drawCaseReport(w, d, m, c, in)
	})
	if err != nil {
		return nil, err
	}
	return s.DB.StepSeriousCase(ctx, actor, caseID, in, doc)
}

func (s *Service) generate(ctx context.Context, actor *casework.Actor, personID, kind, title string, draw func(*writer, *store.Dossier, *store.Measure)) (*store.DocumentInput, error) {
	if s.Blobs == nil {
		return nil, ErrNoBlobs
	}
	d, err := s.DB.LoadDossier(ctx, actor, personID, store.DossierGenerate)
	if err != nil {
		return nil, err
	}
	m := d.Current()
	if m == nil {
		return nil, casework.Errorf(casework.ECONFLICT, "该人员还没有措施，不能生成文书", "the person has no measure yet: nothing to generate")
	}
	full := title + "（" + d.Person.Name + "）"
	w, err := newWriter(full, title+" · "+d.Person.Name, d.At)
	if err != nil {
		return nil, err
	}
	draw(w, d, m)
	b, err := w.bytes()
	if err != nil {
		return nil, err
	}
	key, n, err := s.Blobs.Put(ctx, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return &store.DocumentInput{Kind: kind, Title: full, Source: store.SourceGenerated, SHA256: key, MIME: "application/pdf", Size: n}, nil
}

func violationLine(v *store.Violation) string {
	s := fmt.Sprintf("%s（%s", v.Kind.Label("zh"), dateStr(v.Day))
	if v.Kind == casework.ViolationDeparture {
		s += fmt.Sprintf(" 起，共 %d 日", v.Days)
	}
	return s + "）"
}

// drawLadder: 劝诫书 / 告诫书 / 通报 (R29; 戒毒条例 Art 20, 21).
func drawLadder(w *writer, d *store.Dossier, m *store.Measure, v *store.Violation, in casework.LadderInput) {
	kind := m.Kind.Label("zh")
	tw := d.Township().Name
	switch in.Step {
	case casework.StepExhort, casework.StepWarn:
		w.centered(in.Step.Label("zh")+"书", 20)
		w.space(12)
		w.para(d.Person.Name+"（公民身份号码："+orDash(d.Person.IDMasked)+"）：", 12)
		w.para(fmt.Sprintf("    你在%s期间有下列违反%s协议的行为：%s。", kind, kind, violationLine(v)), 12)
		w.para("    情况说明："+in.Reason, 12)
		if in.Step == casework.StepExhort {
			w.para("    现对你予以劝诫。请你严格遵守协议，按时签到、接受检测，离开执行地所在县（区）须事先报告。", 12)
		} else {
			w.para("    你曾受到劝诫，仍未改正，现对你予以告诫。根据《戒毒条例》第二十条，逃避或者拒绝接受检测3次以上，擅自离开执行地所在县（市、区）3次以上或者累计超过30日的，属于严重违反协议，将报告公安机关依法处理。", 12)
		}
	default:
		w.centered("违反"+kind+"协议情况通报", 20)
		w.space(12)
		w.para(in.Recipient+"：", 12)
		w.para(fmt.Sprintf("    %s（公民身份号码：%s）于 %s 起在%s执行%s。该人员有下列违反协议的行为：%s。", d.Person.Name, orDash(d.Person.IDMasked),
			dateStr(m.ReportDate), m.PlaceOrgName, kind, violationLine(v)), 12)
		w.para("    情况说明："+in.Reason, 12)
		w.para("    根据《戒毒条例》第二十一条，现予通报，请依法处理。", 12)
	}
	w.space(30)
	w.right(tw+"（盖章）", 12)
	w.right(today(d), 12)
	if in.Step != casework.StepPolice {
		w.space(30)
		w.blankLine("被告知人签收：")
		w.blankLine("签收日期：")
	}
}

// drawCaseReport: 严重违反协议（吸毒）情况报告书 to the police (R9, R10).
func drawCaseReport(w *writer, d *store.Dossier, m *store.Measure, c *store.SeriousCase, in casework.CaseStep) {
	kind := m.Kind.Label("zh")
	if c.Statutory || !c.Trigger.IsR9() {
		w.centered("严重违反"+kind+"协议情况报告书", 20)
	} else {
		// R9: opened on a threshold a local policy lowered; not the
		// regulation's serious violation, and the report must not say so.
		w.centered("违反"+kind+"协议情况报告书（本地政策标准）", 20)
	}
	w.space(12)
	w.para(in.Recipient+"：", 12)
	w.para(fmt.Sprintf("    %s（公民身份号码：%s），依%s作出的决定（文号：%s），于 %s 起在%s执行%s。", d.Person.Name, orDash(d.Person.IDMasked),
		m.DecisionAuthority, m.DecisionNumber, dateStr(m.ReportDate), m.PlaceOrgName, kind), 12)
	w.para("    经核实，该人员存在下列情形："+c.TriggerLabel("zh")+"。", 12)
	if c.Counts != "" {
		w.para("    统计（整个执行期间，已免责的不计）："+countsZH(c.Counts), 12)
	}
	if c.Statutory || !c.Trigger.IsR9() {
		w.para("    根据《戒毒条例》第二十条、第二十一条的规定，现予报告，请依法处理并将处理结果告知我单位。", 12)
	} else {
		w.para("    上述情形未达到《戒毒条例》第二十条规定的严重违反协议标准（逃避或者拒绝接受检测3次以上，擅自离开执行地所在县（市、区）3次以上或者累计超过30日），"+
			"系依照本地政策规定的较低标准报告，请结合实际依法处理并将处理结果告知我单位。", 12)
	}
	w.space(30)
	w.right(d.Township().Name+"（盖章）", 12)
	w.right(today(d), 12)
	w.space(30)
	w.blankLine("接收单位签收：")
	w.blankLine("签收日期：")
}

func countsZH(js string) string {
	var c struct {
		Refusals    *int   `json:"refusals"`
		Departures  *int   `json:"departures"`
		AbsenceDays *int   `json:"absence_days"`
		TestID      string `json:"test_id"`
	}
	if json.Unmarshal([]byte(js), &c) != nil || c.Refusals == nil {
		return "见附件"
	}
	return fmt.Sprintf("逃避或拒绝检测 %d 次；擅自离开执行地县（区） %d 次，累计 %d 日", *c.Refusals, *c.Departures, *c.AbsenceDays)
}
