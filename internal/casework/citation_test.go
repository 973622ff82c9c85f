package casework

import "testing"

func TestCiteNamesTheInstrumentAndArticle(t *testing.T) {
	tests := []struct{ ref, zh, en string }{
		{"R9", "《戒毒条例》第二十条", "Regulations on Drug Rehabilitation, art. 20"},
		{"R1", "《戒毒条例》第十四条", "Regulations on Drug Rehabilitation, art. 14"},
		{"R16", "《戒毒条例》第七条", "Regulations on Drug Rehabilitation, art. 7"},
		{"R15", "《戒毒条例》第二十三条、第四十条", "Regulations on Drug Rehabilitation, arts. 23, 40"},
		{"R10", "《戒毒条例》第二十一条；《禁毒法》第三十五条", "Regulations on Drug Rehabilitation, art. 21; Anti-Drug Law, art. 35"},
		{"R1, R5", "《戒毒条例》第十四条、第三十八条", "Regulations on Drug Rehabilitation, arts. 14, 38"},
		{"R38", "《治安管理处罚法》第一百三十六条", "Public Security Administration Punishments Law, art. 136"},
		{"R28", "地方工作规范", "local practice"},
		{"R8, R37", "《戒毒条例》第十九条；《个人信息保护法》第六条", "Regulations on Drug Rehabilitation, art. 19; Personal Information Protection Law, art. 6"},
		{"Q1, R34", "地方工作规范", "local practice"},
		{"R24", "地方工作规范", "local practice"},
		{"R9, R29", "《戒毒条例》第二十条；地方工作规范", "Regulations on Drug Rehabilitation, art. 20; local practice"},
	}
	for _, tt := range tests {
		if got := Cite(tt.ref, "zh"); got != tt.zh {
			t.Errorf("Cite(%q, zh) = %q, want %q", tt.ref, got, tt.zh)
		}
		if got := Cite(tt.ref, "en"); got != tt.en {
			t.Errorf("Cite(%q, en) = %q, want %q", tt.ref, got, tt.en)
		}
	}
}

func TestChineseNumeral(t *testing.T) {
	for n, want := range map[int]string{1: "一", 7: "七", 10: "十", 14: "十四", 20: "二十", 21: "二十一", 40: "四十", 100: "一百", 101: "一百零一", 110: "一百一十", 136: "一百三十六"} {
		if got := ChineseNumeral(n); got != want {
			t.Errorf("ChineseNumeral(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestMessagesCiteTheLawNotRuleNumbers (issue 18 §8): an error a worker
// reads names the regulation and article, never our rule number.
func TestMessagesCiteTheLawNotRuleNumbers(t *testing.T) {
	e := Invalid("staff_ids", "检测须有两名以上工作人员在场，请选择两名工作人员（R18）", "at least two staff must be present: choose two staff (R18)")
	if got, want := e.Message("zh"), "检测须有两名以上工作人员在场，请选择两名工作人员（《吸毒检测程序规定》第八条）"; got != want {
		t.Errorf("zh %q, want %q", got, want)
	}
	if got, want := e.Message("en"), "at least two staff must be present: choose two staff (Provisions on Drug Testing Procedures, art. 8)"; got != want {
		t.Errorf("en %q, want %q", got, want)
	}
	for _, c := range []struct{ in, lang, want string }{
		{"通报公安须写明接收单位或民警（R10）", "zh", "通报公安须写明接收单位或民警（《戒毒条例》第二十一条；《禁毒法》第三十五条）"},
		{"a rule of local practice (R33)", "en", "a rule of local practice"},
		{"no reference here, Room 3", "en", "no reference here, Room 3"},
	} {
		if got := CiteRules(c.in, c.lang); got != c.want {
			t.Errorf("CiteRules(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// A message that already names the article does not name it twice.
func TestCiteRulesOnce(t *testing.T) {
	in := "《戒毒条例》第十九条规定离开县（区）3日以上须书面报告（R8），各地可从严"
	if got, want := CiteRules(in, "zh"), "《戒毒条例》第十九条规定离开县（区）3日以上须书面报告，各地可从严"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
