package dossier

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	"kangfu/internal/blob"
	"kangfu/internal/casework"
	"kangfu/internal/store"
)

// DefaultMaxUpload is the size limit of an uploaded scan.
const DefaultMaxUpload int64 = 20 << 20

// ScanTypes are the content types a scan may have, as detected from its
// bytes (never from the file name or the type the client claims).
var ScanTypes = map[string]string{"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}

// Service files, generates and returns documents and prints dossiers, for
// both front doors.
type Service struct {
	DB        *store.DB
	Blobs     blob.Storage // nil: uploads, generation and downloads are unavailable (ErrNoBlobs)
	MaxUpload int64        // 0: DefaultMaxUpload
}

// ErrNoBlobs means the server runs without a blob store; front doors answer
// 503.
var ErrNoBlobs = errors.New("dossier: no blob store configured")

// Limit returns the upload size limit in bytes.
func (s *Service) Limit() int64 {
	if s.MaxUpload > 0 {
		return s.MaxUpload
	}
	return DefaultMaxUpload
}

// TooLarge is the error for a file over the limit, naming the limit.
func TooLarge(limit int64) error {
	return casework.Invalid("file", "文件过大：扫描件不能超过 %s", "the file is too large: a scan may be at most %s", SizeLabel(limit))
}

// DetectScan returns the content type of a scan from its first bytes, or an
// error naming what was found: only PDF, JPEG and PNG are accepted.
func DetectScan(head []byte) (string, error) {
	if len(head) == 0 {
		return "", casework.Invalid("file", "文件为空", "the file is empty")
	}
	ct := http.DetectContentType(head)
	if _, ok := ScanTypes[ct]; ok {
		return ct, nil
	}
	found, _, _ := strings.Cut(ct, ";")
	return "", casework.Invalid("file", "只能上传 PDF、JPEG 或 PNG 扫描件（按文件内容识别为 %s）",
		"only PDF, JPEG or PNG scans are accepted (the content is %s)", found)
}

// Upload is a scan to file.
type Upload struct {
	Kind     string
	Title    string // empty: the file name without its extension
	FileName string
	Body     io.Reader
}

// limitReader fails once more than n bytes have been read, so an
// oversized upload is never stored.
type limitReader struct {
	r     io.Reader
	n     int64
	limit int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	k, err := l.r.Read(p)
	l.n += int64(k)
	if l.n > l.limit {
		return k, TooLarge(l.limit)
	}
	return k, err
}

// CheckUpload checks, before anything is read, that the actor may file a
// document for the person and that the server can store it.
func (s *Service) CheckUpload(ctx context.Context, actor *casework.Actor, personID string) error {
	if err := s.DB.CanAddDocument(ctx, actor, personID); err != nil {
		return err
	}
	if s.Blobs == nil {
		return ErrNoBlobs
	}
	return nil
}

// Upload checks access, kind and title, detects the type from the content,
// enforces the size limit while storing, and files the document: nothing
// is filed unless all of it is good.
func (s *Service) Upload(ctx context.Context, actor *casework.Actor, personID string, up Upload) (*store.Document, error) {
	if err := s.CheckUpload(ctx, actor, personID); err != nil {
		return nil, err
	}
	if strings.TrimSpace(up.Title) == "" {
		base := path.Base(strings.ReplaceAll(up.FileName, "\\", "/"))
		up.Title = strings.TrimSuffix(base, path.Ext(base))
		if base == "." || base == "/" {
			up.Title = ""
		}
	}
	in := store.DocumentInput{Kind: up.Kind, Title: up.Title, Source: store.SourceUpload}
	if err := in.ValidateMeta(); err != nil {
		return nil, err
	}
	if up.Body == nil {
		return nil, casework.Invalid("file", "请选择要上传的文件", "choose a file to upload")
	}
	br := bufio.NewReaderSize(up.Body, 512)
	head, err := br.Peek(512)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, err
	}
	if in.MIME, err = DetectScan(head); err != nil {
		return nil, err
	}
	if in.SHA256, in.Size, err = s.Blobs.Put(ctx, &limitReader{r: br, limit: s.Limit()}); err != nil {
		return nil, err
	}
	return s.DB.AddDocument(ctx, actor, personID, in)
}

// Generate fills a template for the person (write access needed), stores
// the PDF and files it as a generated document.
func (s *Service) Generate(ctx context.Context, actor *casework.Actor, personID, template string) (*store.Document, error) {
	if err := s.CheckUpload(ctx, actor, personID); err != nil {
		return nil, err
	}
	d, err := s.DB.LoadDossier(ctx, actor, personID, store.DossierGenerate)
	if err != nil {
		return nil, err
	}
	g, err := Generate(d, template)
	if err != nil {
		return nil, err
	}
	key, n, err := s.Blobs.Put(ctx, bytes.NewReader(g.PDF))
	if err != nil {
		return nil, err
	}
	return s.DB.AddDocument(ctx, actor, personID, store.DocumentInput{Kind: g.Kind, Title: g.Title, Source: store.SourceGenerated,
		SHA256: key, MIME: "application/pdf", Size: n})
}

// Download returns a document and its content, checked against its hash;
// the download is audited as an export. Routes stream with OpenDocument.
func (s *Service) Download(ctx context.Context, actor *casework.Actor, documentID string) (*store.Document, []byte, error) {
	doc, rc, _, err := s.OpenDocument(ctx, actor, documentID)
	if err != nil {
		return nil, nil, err
	}
	defer rc.Close()
	content, err := io.ReadAll(rc) // the reader checks the hash at its end
	if err != nil {
		return nil, nil, err
	}
	return doc, content, nil
}

// OpenDocument returns a document and a stream of its content and its size,
// for SendStream; the stream checks the content against the document's hash
// as it ends. The download is audited as an export (R36) once the content
// was found in the blob store. The caller closes the stream.
func (s *Service) OpenDocument(ctx context.Context, actor *casework.Actor, documentID string) (*store.Document, io.ReadCloser, int64, error) {
	var rc io.ReadCloser
	var size int64
	doc, err := s.DB.DownloadDocument(ctx, actor, documentID, func(d *store.Document) error {
		if s.Blobs == nil {
			return ErrNoBlobs
		}
		var err error
		rc, size, err = s.Blobs.Open(ctx, d.SHA256)
		return err
	})
	if err != nil {
		if rc != nil {
			rc.Close()
		}
		return nil, nil, 0, err
	}
	return doc, rc, size, nil
}

// FileName is the name a downloaded document is saved under.
func FileName(d *store.Document) string {
	ext := ScanTypes[d.MIME]
	if ext == "" {
		ext = ".bin"
	}
	name := strings.Map(func(r rune) rune {
		if r < 0x20 || strings.ContainsRune(`/\:*?"<>|`, r) {
			return '_'
		}
		return r
	}, d.Title)
	return name + ext
}

// DossierPDF prints the person's whole file as a PDF (audited as an export).
func (s *Service) DossierPDF(ctx context.Context, actor *casework.Actor, personID string) (*store.Dossier, []byte, error) {
	d, err := s.DB.LoadDossier(ctx, actor, personID, store.DossierPDF)
	if err != nil {
		return nil, nil, err
	}
	b, err := PDF(d)
	return d, b, err
}

// ParseUpload reads a multipart form (fields kind, title, file) of at most
// the upload limit plus room for the other fields, in memory (no temporary
// files of personal documents). A body over the limit is refused with the
// limit named; a request that is not a multipart form gets a clear error.
func (s *Service) ParseUpload(w http.ResponseWriter, r *http.Request) (Upload, error) {
	const room = 1 << 20
	limit := s.Limit()
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		return Upload{}, casework.Invalid("file", "请以 multipart/form-data 上传（字段 kind、title、file）",
			"upload as multipart/form-data (fields kind, title, file)")
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit+room)
	if err := r.ParseMultipartForm(limit + room); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return Upload{}, TooLarge(limit)
		}
		return Upload{}, casework.Invalid("file", "无法读取上传的表单", "cannot read the upload form")
	}
	up := Upload{Kind: r.FormValue("kind"), Title: r.FormValue("title")}
	f, h, err := r.FormFile("file")
	if err != nil {
		return up, casework.Invalid("file", "请选择要上传的文件", "choose a file to upload")
	}
	if h.Size > limit {
		f.Close()
		return up, TooLarge(limit)
	}
	up.FileName, up.Body = h.Filename, f
	return up, nil
}

// SendFile answers with a file to save. It is never shown inline: a scan
// is personal data, and a browser's PDF viewer would run the file's own
// code.
func SendFile(w http.ResponseWriter, mime, name string, content []byte) {
	h := w.Header()
	h.Set("Content-Type", mime)
	h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q; filename*=UTF-8''%s", asciiName(name), url.PathEscape(name)))
	h.Set("Content-Length", strconv.Itoa(len(content)))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	w.Write(content)
}

// SendStream sends a stored file as an attachment, streamed from the blob
// store in constant memory (blob.Serve): an error before the first byte is
// returned for the caller to answer; a failure after it aborts the response.
func SendStream(w http.ResponseWriter, r *http.Request, mime, name string, rc io.ReadCloser, size int64) error {
	h := w.Header()
	h.Set("Content-Type", mime)
	h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q; filename*=UTF-8''%s", asciiName(name), url.PathEscape(name)))
	h.Set("Cache-Control", "no-store")
	return blob.Serve(w, r, rc, size)
}

// asciiName is the fallback file name for clients without RFC 5987.
func asciiName(name string) string {
	out := []rune{}
	for _, r := range name {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			r = '_'
		}
		out = append(out, r)
	}
	return string(out)
}
