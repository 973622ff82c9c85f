package web

import "testing"

// The streak and the next award in plain words, with English plurals
// (issue 14 §5: "再坚持2次检测阴性，奖励恢复到X分").
func TestIncentiveNextWords(t *testing.T) {
	for _, c := range []struct {
		lang                        string
		streak, next, toReturn, ret int
		want                        string
	}{
		{"zh", 0, 10, 0, 0, "下一次检测阴性可得10分。"},
		{"zh", 3, 25, 2, 35, "已连续3次检测阴性。下一次检测阴性可得25分。再坚持2次检测阴性，奖励恢复到35分。"},
		{"en", 1, 15, 1, 35, "1 negative test in a row. The next negative test earns 15 points. 1 more negative test brings the reward back to 35 points."},
		{"en", 2, 1, 4, 35, "2 negative tests in a row. The next negative test earns 1 point. 4 more negative tests bring the reward back to 35 points."},
	} {
		if got := incentiveNext(c.lang, c.streak, c.next, c.toReturn, c.ret); got != c.want {
			t.Errorf("%s %+v:\n got %q\nwant %q", c.lang, c, got, c.want)
		}
	}
}
