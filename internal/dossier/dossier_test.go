package dossier_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kangfu/internal/blob"
	"kangfu/internal/casework"
	"kangfu/internal/dossier"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

var ctx = context.Background()

// Minimal files of each kind, as their first bytes look.
var (
	pdfFile  = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
	jpegFile = append([]byte{0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00}, bytes.Repeat([]byte{0x11}, 64)...)
	pngFile  = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{0}, 64)...)
)

func TestDetectScan(t *testing.T) {
	tests := []struct {
		name    string
		content []byte
		want    string // "" = refused
	}{
		{"PDF", pdfFile, "application/pdf"},
		{"JPEG", jpegFile, "image/jpeg"},
		{"PNG", pngFile, "image/png"},
		{"text file named scan.pdf", []byte("决定书扫描件（其实是文字）\n"), ""},
		{"HTML", []byte("<!DOCTYPE html><html><script>alert(1)</script></html>"), ""},
		{"PDF marker not at the start", append([]byte("junk"), pdfFile...), ""},
		{"GIF", []byte("GIF89a\x01\x00\x01\x00"), ""},
		{"empty", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := dossier.DetectScan(tt.content)
			if tt.want == "" {
				if err == nil || casework.ErrorField(err) != "file" {
					t.Fatalf("accepted as %q (err %v), want refused on field file", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q %v, want %q", got, err, tt.want)
			}
		})
	}
}

// world is a street with one community and an executing person.
type world struct {
	db     *store.DB
	blobs  *blob.Store
	svc    *dossier.Service
	lead   *casework.Actor
	police *casework.Actor
	other  *casework.Actor // lead of another street
	person *casework.Person
}

func build(t *testing.T, db *store.DB) *world {
	t.Helper()
	sys := casework.SystemActor("test")
	mk := func(parent *casework.Org, kind casework.OrgKind, name string) *casework.Org {
		in := casework.OrgInput{Kind: kind, Name: name}
		if parent != nil {
			in.ParentID = parent.ID
		}
		return storetest.Must(db.CreateOrg(ctx, sys, in))
	}
	county := mk(mk(mk(nil, casework.KindProvince, "海南省"), casework.KindCity, "三亚市"), casework.KindCounty, "吉阳区")
	street := mk(county, casework.KindTownship, "椰林街道")
	comm := mk(street, casework.KindCommunity, "安椰厂区")
	otherStreet := mk(county, casework.KindTownship, "红沙街道")
	actor := func(name string, role casework.Role, o *casework.Org) *casework.Actor {
		return &casework.Actor{UserID: "u-" + name, Username: name, Grants: []casework.Grant{{Role: role, OrgID: o.ID, OrgPath: o.Path}}}
	}
	bs, err := blob.Open(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	w := &world{db: db, blobs: bs, svc: &dossier.Service{DB: db, Blobs: bs},
		lead: actor("lead", casework.RoleLead, street), police: actor("police", casework.RolePolice, street),
		other: actor("other", casework.RoleLead, otherStreet)}
	day := casework.DateOf(db.Now(), nil).AddDays(-20)
	body := "46020319880808123"
	w.person = storetest.Must(db.CreatePerson(ctx, sys, casework.PersonInput{OrgID: comm.ID, Name: "黎海燕", IDNumber: body + string(casework.IDCheckChar(body)),
		Phone: "13812345678", HouseholdAddr: "海南省三亚市吉阳区椰林路1号"},
		&casework.MeasureInput{Kind: casework.MeasureTreatment, DecisionNumber: "吉公（禁）社戒决字〔2026〕0815号", DecisionAuthority: "三亚市公安局吉阳分局",
			DecisionDate: day.AddDays(-2), ReceivedDate: day, ReportDate: day.AddDays(1)}))
	if err := db.AddGroupMember(ctx, sys, w.person.ID, store.GroupMember{Role: "police", Name: "符警官"}); err != nil {
		t.Fatal(err)
	}
	if err := db.AddGroupMember(ctx, sys, w.person.ID, store.GroupMember{Role: "厂区保卫科长", Name: "王保卫"}); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) docs(t *testing.T) []store.Document {
	t.Helper()
	return storetest.Must(w.db.ListDocuments(ctx, w.lead, w.person.ID))
}

// blobCount counts stored files.
func (w *world) blobCount(t *testing.T) int {
	t.Helper()
	n := 0
	filepath.WalkDir(w.blobs.Dir(), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return err
	})
	return n
}

func TestUpload(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := build(t, db)
		w.svc.MaxUpload = 4 << 10
		tests := []struct {
			name    string
			actor   *casework.Actor
			up      dossier.Upload
			code    string // "" = filed
			field   string
			message string
		}{
			{"PDF", w.lead, dossier.Upload{Kind: "decision", FileName: "决定书.pdf", Body: bytes.NewReader(pdfFile)}, "", "", ""},
			{"JPEG with title", w.lead, dossier.Upload{Kind: "agreement", Title: "协议书扫描", FileName: "IMG_0001.JPG", Body: bytes.NewReader(jpegFile)}, "", "", ""},
			{"PNG named .pdf", w.lead, dossier.Upload{Kind: "other", FileName: "scan.pdf", Body: bytes.NewReader(pngFile)}, "", "", ""},
			{"text named .pdf", w.lead, dossier.Upload{Kind: "decision", FileName: "决定书.pdf", Body: strings.NewReader("not a pdf")}, casework.EINVALID, "file", "PDF"},
			{"HTML", w.lead, dossier.Upload{Kind: "decision", FileName: "x.png", Body: strings.NewReader("<html><body>hi</body></html>")}, casework.EINVALID, "file", "text/html"},
			{"empty", w.lead, dossier.Upload{Kind: "decision", FileName: "empty.pdf", Body: strings.NewReader("")}, casework.EINVALID, "file", "empty"},
			{"over the limit", w.lead, dossier.Upload{Kind: "decision", FileName: "big.pdf", Body: bytes.NewReader(append(pdfFile, make([]byte, 5<<10)...))}, casework.EINVALID, "file", "4 KiB"},
			{"unknown kind", w.lead, dossier.Upload{Kind: "photo", FileName: "a.pdf", Body: bytes.NewReader(pdfFile)}, casework.EINVALID, "kind", ""},
			{"police may not file", w.police, dossier.Upload{Kind: "decision", FileName: "a.pdf", Body: bytes.NewReader(pdfFile)}, casework.EFORBIDDEN, "", ""},
			{"outside the subtree", w.other, dossier.Upload{Kind: "decision", FileName: "a.pdf", Body: bytes.NewReader(pdfFile)}, casework.ENOTFOUND, "", ""},
		}
		filed := 0
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := w.blobCount(t)
				d, err := w.svc.Upload(ctx, tt.actor, w.person.ID, tt.up)
				if tt.code == "" {
					if err != nil {
						t.Fatal(err)
					}
					filed++
					if got := storetest.Must(w.blobs.Get(ctx, d.SHA256)); int64(len(got)) != d.Size {
						t.Fatalf("stored %d bytes, document says %d", len(got), d.Size)
					}
					return
				}
				if !casework.IsCode(err, tt.code) || casework.ErrorField(err) != tt.field {
					t.Fatalf("got %v (field %q), want %s on %q", err, casework.ErrorField(err), tt.code, tt.field)
				}
				if msg := casework.ErrorMessage(err, "en"); !strings.Contains(msg, tt.message) {
					t.Fatalf("message %q does not say %q", msg, tt.message)
				}
				if zh := casework.ErrorMessage(err, "zh"); tt.message == "4 KiB" && !strings.Contains(zh, "4 KiB") {
					t.Fatalf("Chinese message %q does not name the limit", zh)
				}
				if after := w.blobCount(t); after != before {
					t.Fatalf("a refused upload stored a file (%d → %d)", before, after)
				}
				if n := len(w.docs(t)); n != filed {
					t.Fatalf("a refused upload filed a document (%d, want %d)", n, filed)
				}
			})
		}
		docs := w.docs(t)
		titles := []string{}
		for _, d := range docs {
			titles = append(titles, d.Title+"|"+d.MIME)
		}
		want := []string{"scan|image/png", "协议书扫描|image/jpeg", "决定书|application/pdf"}
		if strings.Join(titles, ",") != strings.Join(want, ",") {
			t.Fatalf("filed %v, want %v", titles, want)
		}
		// The same scan again is one blob (content-addressed), two documents.
		n := w.blobCount(t)
		storetest.Must(w.svc.Upload(ctx, w.lead, w.person.ID, dossier.Upload{Kind: "decision", FileName: "again.pdf", Body: bytes.NewReader(pdfFile)}))
		if w.blobCount(t) != n || len(w.docs(t)) != 4 {
			t.Fatalf("re-upload: %d blobs (was %d), %d documents", w.blobCount(t), n, len(w.docs(t)))
		}
		// Downloads come back intact, and are refused outside the subtree.
		d, content, err := w.svc.Download(ctx, w.police, docs[2].ID)
		if err != nil || !bytes.Equal(content, pdfFile) || d.Title != "决定书" {
			t.Fatalf("download: %v", err)
		}
		if _, _, err := w.svc.Download(ctx, w.other, docs[2].ID); !casework.IsCode(err, casework.ENOTFOUND) {
			t.Fatalf("download outside the subtree: %v", err)
		}
	})
}

func TestNoBlobStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := build(t, db)
		svc := &dossier.Service{DB: db}
		if _, err := svc.Upload(ctx, w.lead, w.person.ID, dossier.Upload{Kind: "decision", Body: bytes.NewReader(pdfFile)}); err != dossier.ErrNoBlobs {
			t.Fatalf("upload without a store: %v", err)
		}
		if _, err := svc.Upload(ctx, w.other, w.person.ID, dossier.Upload{Kind: "decision", Body: bytes.NewReader(pdfFile)}); !casework.IsCode(err, casework.ENOTFOUND) {
			t.Fatalf("access is checked before the store: %v", err)
		}
		if _, _, err := svc.DossierPDF(ctx, w.police, w.person.ID); err != nil {
			t.Fatalf("the dossier needs no blob store: %v", err)
		}
	})
}

// pdfText extracts the text of a PDF with pdftotext (poppler-utils).
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("KANGFU_REQUIRE_BROWSER") == "1" {
			t.Fatal("pdftotext is missing (apt-get install poppler-utils)")
		}
		t.Skip("pdftotext not installed")
	}
	f := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(f, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-enc", "UTF-8", f, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

// compact drops the spaces and line breaks pdftotext puts between glyphs.
func compact(s string) string { return strings.Join(strings.Fields(s), "") }

func TestDossierPDF(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := build(t, db)
		storetest.Must(w.svc.Upload(ctx, w.lead, w.person.ID, dossier.Upload{Kind: "decision", Title: "责令社区戒毒决定书", Body: bytes.NewReader(pdfFile)}))
		_, pdf, err := w.svc.DossierPDF(ctx, w.police, w.person.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
			t.Fatal("not a PDF")
		}
		text := compact(pdfText(t, pdf))
		for _, want := range []string{"黎海燕", "人员档案", "吉公（禁）社戒决字〔2026〕0815号", "符警官", "厂区保卫科长", "社区民警", "责令社区戒毒决定书", "460203********", "文书归档",
			// R1, issue 18 §7: registered with its report date, the measure has no
			// report-in event, yet the history shows the report-in, not "无".
			"报到：待报到 → 执行中", "报到日期据建档时登记的措施信息"} {
			if !strings.Contains(text, compact(want)) {
				t.Errorf("the dossier PDF lacks %q", want)
			}
		}
		id := w.person.IDMasked
		full := strings.Replace(id, "********", "", 1)
		if strings.Contains(text, "13812345678") || (len(full) == 10 && strings.Contains(text, "460203198808")) {
			t.Error("the dossier PDF shows an unmasked ID number or phone")
		}
		if _, _, err := w.svc.DossierPDF(ctx, w.other, w.person.ID); !casework.IsCode(err, casework.ENOTFOUND) {
			t.Fatalf("dossier outside the subtree: %v", err)
		}
	})
}

func TestGenerate(t *testing.T) {
	storetest.EachWithClock(t, time.Date(2026, 5, 10, 2, 0, 0, 0, time.UTC), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := build(t, db)
		tests := []struct {
			template string
			actor    *casework.Actor
			code     string
			want     []string
		}{
			{"agreement", w.lead, "", []string{"社区戒毒协议书", "黎海燕", "吉公（禁）社戒决字〔2026〕0815号", "三亚市公安局吉阳分局", "椰林街道", "逃避或者拒绝接受检测3次以上"}},
			{"working_group", w.lead, "", []string{"工作小组名单", "符警官", "社区民警", "厂区保卫科长", "王保卫"}},
			{"report_notice", w.lead, "", []string{"报到通知", "黎海燕", "15日内", "视为拒绝接受社区戒毒"}},
			{"release_notice", w.lead, casework.ECONFLICT, nil},
			{"birthday_card", w.lead, casework.EINVALID, nil},
			{"agreement", w.police, casework.EFORBIDDEN, nil},
			{"agreement", w.other, casework.ENOTFOUND, nil},
		}
		for _, tt := range tests {
			t.Run(tt.template+"/"+tt.actor.Username, func(t *testing.T) {
				d, err := w.svc.Generate(ctx, tt.actor, w.person.ID, tt.template)
				if tt.code != "" {
					if !casework.IsCode(err, tt.code) {
						t.Fatalf("got %v, want %s", err, tt.code)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if d.Source != store.SourceGenerated || d.Kind != tt.template || d.MIME != "application/pdf" || !strings.Contains(d.Title, "黎海燕") {
					t.Fatalf("document %+v", d)
				}
				_, content, err := w.svc.Download(ctx, w.lead, d.ID)
				if err != nil {
					t.Fatal(err)
				}
				text := compact(pdfText(t, content))
				for _, s := range tt.want {
					if !strings.Contains(text, compact(s)) {
						t.Errorf("%s lacks %q", tt.template, s)
					}
				}
			})
		}
		// Once released at expiry (R15), the release notice can be made.
		clock.Add(3*366*24*time.Hour + 48*time.Hour)
		if n, err := db.ReleaseExpired(ctx); n != 1 || err != nil {
			t.Fatalf("release: %d %v", n, err)
		}
		d, err := w.svc.Generate(ctx, w.lead, w.person.ID, "release_notice")
		if err != nil {
			t.Fatal(err)
		}
		_, content, err := w.svc.Download(ctx, w.lead, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if text := compact(pdfText(t, content)); !strings.Contains(text, "解除社区戒毒通知书") || !strings.Contains(text, compact("吉公（禁）社戒决字〔2026〕0815号")) {
			t.Errorf("release notice text: %s", text)
		}
	})
}

func TestParseUpload(t *testing.T) {
	svc := &dossier.Service{MaxUpload: 4 << 10}
	form := func(file []byte) (*bytes.Buffer, string) {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		mw.WriteField("kind", "decision")
		mw.WriteField("title", "决定书")
		if file != nil {
			fw, _ := mw.CreateFormFile("file", "scan.pdf")
			fw.Write(file)
		}
		mw.Close()
		return &b, mw.FormDataContentType()
	}
	tests := []struct {
		name    string
		file    []byte
		ct      string // overrides the multipart type
		message string // "" = parsed
	}{
		{"a scan", pdfFile, "", ""},
		{"over the limit", append(pdfFile, make([]byte, 5<<10)...), "", "4 KiB"},
		{"far over the limit", append(pdfFile, make([]byte, 3<<20)...), "", "4 KiB"},
		{"no file", nil, "", "choose a file"},
		{"not multipart", pdfFile, "application/json", "multipart/form-data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, ct := form(tt.file)
			if tt.ct != "" {
				ct = tt.ct
			}
			r := httptest.NewRequest("POST", "/api/v1/persons/x/documents", body)
			r.Header.Set("Content-Type", ct)
			up, err := svc.ParseUpload(httptest.NewRecorder(), r)
			if tt.message == "" {
				if err != nil || up.Kind != "decision" || up.Title != "决定书" || up.FileName != "scan.pdf" {
					t.Fatalf("%+v %v", up, err)
				}
				return
			}
			if casework.ErrorField(err) != "file" || !strings.Contains(casework.ErrorMessage(err, "en"), tt.message) {
				t.Fatalf("got %v, want a file error saying %q", err, tt.message)
			}
		})
	}
}
