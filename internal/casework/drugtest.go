package casework

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// PermRecordTest lets police, workers and leads record a drug test for a
// person in their subtree. Police record tests without write access to the
// file (they collect the samples, R18).
const PermRecordTest Perm = "persons.record_test"

// Sample types allowed (R20).
var SampleTypes = []string{"urine", "blood", "saliva", "hair"}

// Test outcomes. A refusal is an outcome of its own (R21).
const (
	OutcomeNegative = "negative"
	OutcomePositive = "positive"
	OutcomeInvalid  = "invalid"
	OutcomeRefused  = "refused"
)

// Outcomes lists every outcome.
var Outcomes = []string{OutcomeNegative, OutcomePositive, OutcomeInvalid, OutcomeRefused}

// SampleRetentionMonths is how long the A/B samples of a positive on-site
// test are kept at least (R18: ≥6 months, S3 Art 8 as amended by S4).
const SampleRetentionMonths = 6

// EarliestDestroy is the first day samples collected on collected may be
// destroyed (R18): the same day six months later; a day the month lacks
// gives its last day (31 August → 28 or 29 February).
func EarliestDestroy(collected Date) Date { return collected.AddMonths(SampleRetentionMonths) }

// ObjectionDays is the window, in days from the day the result is notified
// to the person, to request a lab test or a retest (R19).
const ObjectionDays = 3

// DrugTestInput is one test record as entered.
type DrugTestInput struct {
	TestedOn   Date
	Place      string
	Sample     string   // urine, blood, saliva, hair (R20)
	Substances []string // substances tested for
	Outcome    string   // negative, positive, invalid, refused
	Positive   []string // substances found, on a positive
	StaffIDs   []string // staff present (R18: at least two); none for a remote test
	SampleA    string   // A sample number, on a positive (R18)
	SampleB    string   // B sample number
	SealNo     string   // seal number
	// RetainUntil is the first day the A/B samples of a positive test may
	// be destroyed: at least SampleRetentionMonths after collection (R18).
	// Empty: exactly that.
	RetainUntil Date
	// Forced: the test was done after a refusal, approved by the head of
	// the county police or of its 派出机构 (R21).
	Forced        bool
	ApproverName  string
	ApproverTitle string
	// NotifiedOn is the day the result was notified to the person: the
	// base of the R19 deadlines. Empty means the test day (results of
	// on-site tests are told on the spot).
	NotifiedOn Date
	// Remote: a test done elsewhere while working away, recorded from the
	// report of the issuing institution (optionally a filed document).
	Remote            bool
	RemoteInstitution string
	RemoteDocumentID  string
}

// Collector is a staff member present at a test, as the store finds it.
type Collector struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Sex  string `json:"sex"`
}

// Deadlines are the R19 objection windows, each ObjectionDays from the
// day the result is notified.
type Deadlines struct {
	LabRequestBy    Date // request a lab test (检测)
	RetestRequestBy Date // request a retest (复检)
}

// TestDeadlines computes the R19 deadlines from the notification day.
func TestDeadlines(notified Date) Deadlines {
	return Deadlines{LabRequestBy: notified.AddDays(ObjectionDays), RetestRequestBy: notified.AddDays(ObjectionDays)}
}

func cleanList(in []string) []string {
	var out []string
	for _, s := range in {
		for _, p := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '，' || r == '、' || r == '\n' }) {
			if p = strings.TrimSpace(p); p != "" && !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

// Normalize trims the input and fills defaults (NotifiedOn).
func (in *DrugTestInput) Normalize() {
	in.Place, in.SampleA, in.SampleB, in.SealNo = strings.TrimSpace(in.Place), strings.TrimSpace(in.SampleA), strings.TrimSpace(in.SampleB), strings.TrimSpace(in.SealNo)
	in.ApproverName, in.ApproverTitle = strings.TrimSpace(in.ApproverName), strings.TrimSpace(in.ApproverTitle)
	in.RemoteInstitution, in.RemoteDocumentID = strings.TrimSpace(in.RemoteInstitution), strings.TrimSpace(in.RemoteDocumentID)
	in.Substances, in.Positive, in.StaffIDs = cleanList(in.Substances), cleanList(in.Positive), cleanList(in.StaffIDs)
	if in.NotifiedOn.IsZero() {
		in.NotifiedOn = in.TestedOn
	}
	if in.Outcome != OutcomePositive {
		in.Positive = nil
	}
}

func tooLong(field, s string, n int) error {
	if utf8.RuneCountInString(s) > n {
		return Invalid(field, "该项不能超过%d个字", "at most %d characters", n)
	}
	return nil
}

// Validate checks the record on its own (the staff rules need the
// collectors: see CheckCollectors).
func (in *DrugTestInput) Validate(today Date) error {
	in.Normalize()
	var errs FieldErrors // every bad field at once (issue 18 item 9)
	switch {
	case in.TestedOn.IsZero():
		errs = append(errs, Invalid("tested_on", "请填写检测日期", "the test date is required"))
	case in.TestedOn.After(today):
		errs = append(errs, Invalid("tested_on", "检测日期不能晚于今天", "the test date cannot be in the future"))
	case in.NotifiedOn.Before(in.TestedOn):
		errs = append(errs, Invalid("notified_on", "结果告知日期不能早于检测日期", "the notification date cannot be before the test date"))
	}
	if in.Place == "" {
		errs = append(errs, Invalid("place", "请填写检测地点", "the place of the test is required"))
	}
	if !slices.Contains(SampleTypes, in.Sample) {
		errs = append(errs, Invalid("sample", "样本类型只能是尿液、血液、唾液或毛发（R20）", "the sample must be urine, blood, saliva or hair (R20)"))
	}
	if !slices.Contains(Outcomes, in.Outcome) {
		errs = append(errs, Invalid("outcome", "请选择检测结果：阴性、阳性、无效或拒绝检测", "choose a result: negative, positive, invalid or refused"))
	}
	for _, c := range []struct {
		f, v string
		n    int
	}{{"place", in.Place, 100}, {"sample_a", in.SampleA, 50}, {"sample_b", in.SampleB, 50}, {"seal_no", in.SealNo, 50},
		{"approver_name", in.ApproverName, 50}, {"approver_title", in.ApproverTitle, 50}, {"remote_institution", in.RemoteInstitution, 100}} {
		if err := tooLong(c.f, c.v, c.n); err != nil {
			errs.Add(err)
		}
	}
	if in.Outcome != OutcomeRefused && len(in.Substances) == 0 {
		errs = append(errs, Invalid("substances", "请填写检测的毒品种类", "list the substances tested for"))
	}
	if !in.Remote && len(in.StaffIDs) < 2 {
		errs = append(errs, Invalid("staff_ids", "检测须有两名以上工作人员在场，请选择两名工作人员（R18）", "at least two staff must be present: choose two staff (R18)"))
	}
	if len(errs) > 0 {
		// The checks below depend on a sound date, outcome and list of
		// substances; report what is wrong so far, all at once.
		return errs.Err()
	}
	if in.Outcome == OutcomePositive {
		if len(in.Positive) == 0 {
			return Invalid("positive", "阳性结果须注明呈阳性的毒品种类", "a positive result must name the substances found")
		}
		for _, p := range in.Positive {
			if !slices.Contains(in.Substances, p) {
				return Invalid("positive", "阳性毒品“%s”不在检测种类中", "the positive substance %q is not among those tested", p)
			}
		}
		if !in.Remote && (in.SampleA == "" || in.SampleB == "" || in.SealNo == "") {
			return Invalid("sample_a", "阳性结果须登记A、B样本编号和封签号（R18）", "a positive result needs the A and B sample numbers and the seal number (R18)")
		}
		if !in.Remote && in.SampleA == in.SampleB {
			return Invalid("sample_b", "A、B样本编号不能相同（R18）", "the A and B sample numbers must differ (R18)")
		}
	}
	if in.Outcome != OutcomePositive || in.Remote {
		in.RetainUntil = Date{} // no A/B samples kept here
	} else if earliest := EarliestDestroy(in.TestedOn); in.RetainUntil.IsZero() {
		in.RetainUntil = earliest
	} else if in.RetainUntil.Before(earliest) {
		return Invalid("retain_until", "A、B样本须保存6个月以上，可销毁日期不得早于 %s",
			"the A and B samples are kept at least 6 months: they may not be destroyed before %s", earliest)
	}
	if in.Forced {
		if in.Outcome == OutcomeRefused {
			return Invalid("outcome", "强制检测须登记检测结果", "a forced test must record its result")
		}
		if in.ApproverName == "" || in.ApproverTitle == "" {
			return Invalid("approver_name", "强制检测须经县级公安机关或派出机构负责人批准，请填写批准人姓名和职务（R21）",
				"a forced test needs the approval of the head of the county police or its station: give the approver's name and title (R21)")
		}
	} else {
		in.ApproverName, in.ApproverTitle = "", ""
	}
	if in.Remote {
		if in.RemoteInstitution == "" {
			return Invalid("remote_institution", "异地检测须填写出具报告的机构", "a remote test needs the issuing institution")
		}
		if in.Forced || in.Outcome == OutcomeRefused {
			return Invalid("remote", "异地检测报告只登记检测结果", "a remote test report records a result only")
		}
	} else {
		in.RemoteInstitution, in.RemoteDocumentID = "", ""
		if len(in.StaffIDs) < 2 {
			return Invalid("staff_ids", "检测须有两名以上工作人员在场，请选择两名工作人员（R18）", "at least two staff must be present: choose two staff (R18)")
		}
	}
	return nil
}

// CheckCollectors applies R18 to the staff found for StaffIDs: each must
// exist, and a female subject needs at least one female collector.
func (in *DrugTestInput) CheckCollectors(subjectSex string, found []Collector) error {
	if in.Remote {
		return nil
	}
	for _, id := range in.StaffIDs {
		if !slices.ContainsFunc(found, func(c Collector) bool { return c.ID == id }) {
			return Invalid("staff_ids", "找不到工作人员账号“%s”", "no staff account %q", id)
		}
	}
	if subjectSex == "F" && !slices.ContainsFunc(found, func(c Collector) bool { return c.Sex == "F" }) {
		return Invalid("staff_ids", "检测对象为女性，在场工作人员中须至少有一名女性（R18）",
			"the person tested is female: at least one of the staff present must be female (R18)")
	}
	return nil
}

// CanRecordTest reports whether the actor may record a test for a person
// whose file it reads with acc at orgPath: write access to the file, or a
// police grant over the place (police collect samples without owning the
// file). A past place of execution records nothing.
func CanRecordTest(a *Actor, orgPath string, acc PersonAccess) bool {
	if a == nil || !acc.Read || !acc.Sensitive || !acc.Until.IsZero() || acc.Incoming || !a.Can(PermRecordTest, orgPath) {
		return false
	}
	if acc.Write || a.System {
		return true
	}
	for _, g := range a.Grants {
		if g.Role == RolePolice && strings.HasPrefix(orgPath, g.OrgPath) {
			return true
		}
	}
	return false
}
