package casework

// The yearly work summary (年度工作总结, issue 12 §3; CARE.md §5.2): the
// figures come from the report engine, the office writes the rest. The
// sections follow the 正阳社工 model: 项目简述 / 服务开展情况 (both
// generated, with the office's text appended) / 亮点 / 问题 / 下一步.

// PermWriteSummary lets an office or a street lead write a summary's texts
// and finalise it (freeze its figures).
const PermWriteSummary Perm = "reports.summary.write"

func init() { permRoles[PermWriteSummary] = []Role{RoleOffice, RoleLead} }

// MaxSummaryText caps each section the office writes.
const MaxSummaryText = 4000

// SummaryTexts are the sections the office writes for an org and year.
type SummaryTexts struct {
	Overview   string // appended to the generated 项目简述
	Services   string // appended to the generated 服务开展情况
	Highlights string // 亮点
	Problems   string // 问题
	NextSteps  string // 下一步
}

// SummarySections names the texts' fields in order (form and API names).
var SummarySections = []string{"overview", "services", "highlights", "problems", "next_steps"}

// Field returns a section's text by its field name.
func (t *SummaryTexts) Field(name string) *string {
	switch name {
	case "overview":
		return &t.Overview
	case "services":
		return &t.Services
	case "highlights":
		return &t.Highlights
	case "problems":
		return &t.Problems
	case "next_steps":
		return &t.NextSteps
	}
	return nil
}

// Clean trims every section and checks it as free text (at most
// MaxSummaryText characters, no direction or control characters); every
// faulty section is named at once.
func (t *SummaryTexts) Clean() error {
	var errs FieldErrors
	for _, f := range SummarySections {
		p := t.Field(f)
		s, err := CleanText(f, *p, MaxSummaryText)
		if err != nil {
			errs.Add(err)
			continue
		}
		*p = s
	}
	return errs.Err()
}

// Empty reports whether no section has text.
func (t SummaryTexts) Empty() bool {
	return t.Overview == "" && t.Services == "" && t.Highlights == "" && t.Problems == "" && t.NextSteps == ""
}
