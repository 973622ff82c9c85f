package i18n

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var verbRE = regexp.MustCompile(`%[-+#0]*(?:\[[0-9]+\])?[0-9]*(?:\.[0-9]+)?[a-zA-Z%]`)

// verbs lists the formatting verbs of a message, without %%.
func verbs(s string) []string {
	var out []string
	for _, v := range verbRE.FindAllString(s, -1) {
		if v != "%%" {
			out = append(out, v)
		}
	}
	return out
}

// dummy is an argument that suits the verb.
func dummy(v string) any {
	switch v[len(v)-1] {
	case 'd', 'x', 'X', 'o', 'b', 'c':
		return 2
	case 'f', 'g', 'e':
		return 2.5
	case 't':
		return true
	}
	return "x"
}

// Issue 15 §7: every catalog message renders with arguments that fit its
// verbs without a "%!" left over, and zh and en take the same verbs in the
// same order (else one language shows "%!(EXTRA …)").
func TestEveryMessageRendersCleanly(t *testing.T) {
	for _, lang := range []string{ZH, EN} {
		for k, s := range Keys(lang) {
			var args []any
			for _, v := range verbs(s) {
				args = append(args, dummy(v))
			}
			if out := T(lang, k, args...); strings.Contains(out, "%!") {
				t.Errorf("%s %s renders as %q", lang, k, out)
			}
			if lang == ZH {
				if zv, ev := strings.Join(verbs(s), " "), strings.Join(verbs(Keys(EN)[k]), " "); zv != ev {
					t.Errorf("%s: zh takes %q, en %q", k, zv, ev)
				}
			}
		}
	}
}

// Every i18n.T call in the Go sources with a literal key passes as many
// arguments as the message has verbs: an extra one shows "%!(EXTRA …)", a
// missing one "%!d(MISSING)".
func TestCallsPassTheMessagesArguments(t *testing.T) {
	fset := token.NewFileSet()
	n := 0
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(node ast.Node) bool {
			call, ok := node.(*ast.CallExpr)
			if !ok || call.Ellipsis.IsValid() || len(call.Args) < 2 {
				return true
			}
			pkg, name := "", ""
			switch fn := call.Fun.(type) {
			case *ast.SelectorExpr:
				if x, ok := fn.X.(*ast.Ident); ok {
					pkg, name = x.Name, fn.Sel.Name
				}
			case *ast.Ident:
				if f.Name.Name == "casework" {
					pkg, name = "casework", fn.Name
				}
			}
			if pkg == "casework" && (name == "Errorf" || name == "Invalid") && len(call.Args) >= 3 {
				// casework.Errorf(code, zh, en, args...), Invalid(field, zh, en, args...)
				for _, a := range call.Args[1:3] {
					lit, ok := a.(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						continue
					}
					msg, _ := strconv.Unquote(lit.Value)
					n++
					if strings.Contains(msg, "%[") {
						continue // explicit argument indexes: fmt reports no extra
					}
					if want, got := len(verbs(msg)), len(call.Args)-3; got != want {
						t.Errorf("%s: %q takes %d arguments, given %d", fset.Position(call.Pos()), msg, want, got)
					}
				}
				return true
			}
			if pkg != "i18n" || name != "T" {
				return true
			}
			lit, ok := call.Args[1].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			key, _ := strconv.Unquote(lit.Value)
			msg, ok := Keys(ZH)[key]
			if !ok {
				return true
			}
			n++
			if want, got := len(verbs(msg)), len(call.Args)-2; got != want {
				t.Errorf("%s: %s takes %d arguments, given %d", fset.Position(call.Pos()), key, want, got)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 50 {
		t.Fatalf("found only %d calls: the walk no longer finds them", n)
	}
}
