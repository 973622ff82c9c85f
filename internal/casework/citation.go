package casework

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// citation.go says where a rule comes from the way a worker cites it: the
// instrument and its article (《戒毒条例》第二十条), not the rule number of
// DOMAIN.md, which staff pages show only as a tooltip (issue 18 §8). Local
// practice (LOW or UNCONFIRMED in DOMAIN §9) is cited as local practice.

// Instruments named by the citations (DOMAIN §10).
var instruments = map[string][2]string{
	"S1":  {"《戒毒条例》", "Regulations on Drug Rehabilitation"},
	"S2":  {"《禁毒法》", "Anti-Drug Law"},
	"S3":  {"《吸毒检测程序规定》", "Provisions on Drug Testing Procedures"},
	"S47": {"《个人信息保护法》", "Personal Information Protection Law"},
	"S48": {"《治安管理处罚法》", "Public Security Administration Punishments Law"},
	"S24": {"《海南自由贸易港禁毒条例》", "Hainan Free Trade Port Anti-Drug Regulations"},
}

// articles cites each rule of DOMAIN §9 by instrument and article numbers,
// the first being the main source. A rule missing here is local practice.
var articles = map[string][]struct {
	src  string
	arts []int
}{
	"R1":  {{"S1", []int{14}}},
	"R2":  {{"S1", []int{14}}, {"S2", []int{38}}},
	"R3":  {{"S1", []int{14}}},
	"R4":  {{"S2", []int{48}}, {"S1", []int{37}}},
	"R5":  {{"S1", []int{38}}},
	"R6":  {{"S1", []int{16}}},
	"R7":  {{"S1", []int{17}}},
	"R8":  {{"S1", []int{19}}},
	"R9":  {{"S1", []int{20}}},
	"R10": {{"S1", []int{21}}, {"S2", []int{35}}},
	"R11": {{"S1", []int{22}}},
	"R13": {{"S1", []int{24}}},
	"R14": {{"S1", []int{24}}},
	"R15": {{"S1", []int{23, 40}}},
	"R16": {{"S1", []int{7}}},
	"R17": {{"S2", []int{39}}},
	"R18": {{"S3", []int{8}}},
	"R20": {{"S3", []int{6}}},
	"R21": {{"S2", []int{32}}, {"S3", []int{7}}},
	"R32": {{"S47", []int{24}}},
	"R36": {{"S47", []int{28, 51}}},
	"R37": {{"S47", []int{6}}},
	"R38": {{"S48", []int{136}}},
	"R40": {{"S47", []int{36}}},
	"R41": {{"S1", []int{12, 37}}},
}

// ruleRef finds the rule numbers in a reference like "R8, R37" or "Q1, R34".
var ruleRef = regexp.MustCompile(`R\d{1,2}`)

// ruleParen finds a rule reference in brackets at the end of a phrase:
// "（R18）", " (R20)", "（R8, R37）".
var ruleParen = regexp.MustCompile(`\s?[（(]R\d{1,2}(?:[,，、]\s*R\d{1,2})*[）)]`)

// CiteRules rewrites the rule references in brackets of a message into the
// legal source (Cite): "…两名工作人员（R18）" reads "…两名工作人员（《吸毒
// 检测程序规定》第八条）". A rule of local practice drops its number.
func CiteRules(msg, lang string) string {
	if !strings.Contains(msg, "R") {
		return msg
	}
	return ruleParen.ReplaceAllStringFunc(msg, func(m string) string {
		c := Cite(m, lang)
		if c == label([2]string{"地方工作规范", "local practice"}, "", lang) || strings.Contains(msg, c) {
			return "" // local practice, or the message already names the article
		}
		if lang == "en" {
			return " (" + c + ")"
		}
		return "（" + c + "）"
	})
}

// Cite names the legal source of the rules in ref ("R9", "R8, R37") in the
// language: the instrument and article for law, "local practice" otherwise.
// Each instrument is named once, its articles joined.
func Cite(ref, lang string) string {
	var order []string
	arts := map[string][]int{}
	local := false
	for _, r := range ruleRef.FindAllString(ref, -1) {
		cs, ok := articles[r]
		if !ok {
			local = true
			continue
		}
		for _, c := range cs {
			if _, seen := arts[c.src]; !seen {
				order = append(order, c.src)
			}
			for _, a := range c.arts {
				if !slices.Contains(arts[c.src], a) {
					arts[c.src] = append(arts[c.src], a)
				}
			}
		}
	}
	var parts []string
	for _, src := range order {
		parts = append(parts, citeArticles(src, arts[src], lang))
	}
	if local || len(parts) == 0 {
		parts = append(parts, label([2]string{"地方工作规范", "local practice"}, "", lang))
	}
	if lang == "en" {
		return strings.Join(parts, "; ")
	}
	return strings.Join(parts, "；")
}

func citeArticles(src string, arts []int, lang string) string {
	name := instruments[src]
	var nums []string
	for _, a := range arts {
		if lang == "en" {
			nums = append(nums, strconv.Itoa(a))
		} else {
			nums = append(nums, "第"+ChineseNumeral(a)+"条")
		}
	}
	if lang == "en" {
		word := "art."
		if len(nums) > 1 {
			word = "arts."
		}
		return name[1] + ", " + word + " " + strings.Join(nums, ", ")
	}
	return name[0] + strings.Join(nums, "、")
}

// ChineseNumeral writes 1–999 as legal texts number articles: 七, 十四,
// 二十, 一百三十六.
func ChineseNumeral(n int) string {
	digits := []string{"零", "一", "二", "三", "四", "五", "六", "七", "八", "九"}
	if n <= 0 || n > 999 {
		return strconv.Itoa(n)
	}
	var b strings.Builder
	h, t, u := n/100, n/10%10, n%10
	if h > 0 {
		b.WriteString(digits[h] + "百")
		if t == 0 && u > 0 {
			b.WriteString("零")
		}
	}
	if t > 0 {
		if !(t == 1 && h == 0) {
			b.WriteString(digits[t])
		}
		b.WriteString("十")
	}
	if u > 0 {
		b.WriteString(digits[u])
	}
	return b.String()
}
