// Package backup makes and restores Kangfu backups (issue 15, PRODUCT §8):
// a consistent copy of the database taken while the servers keep writing,
// the document store's files, the audit checkpoint file, and a manifest of
// every file's size and SHA-256 and every table's row count, signed with a
// key derived from the server key. The server key itself is never in a
// backup: the manifest names it by fingerprint.
//
// A backup folder holds:
//
//	manifest.json              written last: a folder without it is incomplete
//	kangfu.db | kangfu.pgdump  the database (SQLite file, or pg_dump custom archive)
//	blobs/ab/cd/<sha256>       the documents, by content
//	audit-checkpoints.log      the signed audit checkpoints, when the server keeps them
package backup

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"kangfu/internal/blob"
	"kangfu/internal/store"
)

// Format names the layout of a backup folder.
const Format = "kangfu-backup 1"

// File names inside a backup folder.
const (
	ManifestName    = "manifest.json"
	SQLiteName      = "kangfu.db"
	PostgresName    = "kangfu.pgdump"
	CheckpointsName = "audit-checkpoints.log"
	BlobsDir        = "blobs"
)

// KeyNote is the manifest's reminder about the server key.
type KeyNote struct {
	Included    bool   `json:"included"`    // always false
	Fingerprint string `json:"fingerprint"` // store.Keys.KeyFingerprint of the key the data needs
	FieldKeyID  string `json:"field_key_id"`
	Note        string `json:"note"`
}

// File is one file of a backup.
type File struct {
	Path   string `json:"path"` // slash-separated, relative to the folder
	Kind   string `json:"kind"` // database, blob or checkpoints
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Manifest describes a backup.
type Manifest struct {
	Format          string           `json:"format"`
	CreatedAt       time.Time        `json:"created_at"`
	Engine          string           `json:"engine"`
	Schema          string           `json:"schema,omitempty"` // PostgreSQL: the tables' schema
	SchemaMigration string           `json:"schema_migration"`
	Migrations      int              `json:"schema_migrations_applied"`
	AuditLastRow    int64            `json:"audit_last_row"`
	Checkpoints     int              `json:"audit_checkpoints"`
	Tables          map[string]int64 `json:"tables"`
	Blobs           int              `json:"blobs"`
	BlobsReferenced int              `json:"blobs_referenced"`
	Warnings        []string         `json:"warnings,omitempty"`
	Key             KeyNote          `json:"key"`
	Files           []File           `json:"files"`
	Signature       string           `json:"signature,omitempty"` // Ed25519 over the manifest with this field empty
}

// DatabaseFile returns the manifest entry of the database copy.
func (m *Manifest) DatabaseFile() (File, bool) {
	for _, f := range m.Files {
		if f.Kind == "database" {
			return f, true
		}
	}
	return File{}, false
}

// Size is the total size of the backup's files.
func (m *Manifest) Size(kind string) int64 {
	var n int64
	for _, f := range m.Files {
		if kind == "" || f.Kind == kind {
			n += f.Size
		}
	}
	return n
}

// Rows is the total row count.
func (m *Manifest) Rows() int64 {
	var n int64
	for _, c := range m.Tables {
		n += c
	}
	return n
}

const keyNote = "This backup does not contain the server's secret key (KANGFU_SECRET_KEY). Without that key the encrypted fields " +
	"cannot be read and the audit log cannot be verified: keep the key safe and apart from the backup. The restore needs the key whose fingerprint is given here."

// Source is what Create copies.
type Source struct {
	DB      *store.DB
	Keys    *store.Keys
	BlobDir string // the document store's folder ("" or missing: none)
	// BlobBucket names the bucket documents live in instead of a folder
	// (KANGFU_BLOBS=s3://…): they are not copied (the bucket is backed up
	// on its own, see the README) and the manifest says so.
	BlobBucket     string
	CheckpointFile string // the audit checkpoint file ("" or missing: none)
	PGDump         string // pg_dump's path, for PostgreSQL (store.FindPGTool)
}

// Create writes a backup of src into dir, which must not exist or be
// empty, while the servers keep running, and returns its manifest.
//
// Order matters for consistency: the checkpoint file is read first, so
// every checkpoint in the backup vouches for rows the database copy holds;
// the database next; the blobs last — blobs are written before the rows
// that cite them and never removed, so every blob the copy refers to is
// already in the store when it is copied.
func Create(ctx context.Context, src Source, dir string) (*Manifest, error) {
	if err := emptyDir(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	fp, err := src.Keys.KeyFingerprint()
	if err != nil {
		return nil, err
	}
	m := &Manifest{Format: Format, CreatedAt: time.Now().UTC().Truncate(time.Millisecond), Engine: string(src.DB.Engine())}

	// 1. The checkpoint file: complete lines only (the server may be
	// appending one right now).
	if src.CheckpointFile != "" {
		b, err := os.ReadFile(src.CheckpointFile)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("audit checkpoint file: %w", err)
		}
		if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
			b = b[:i+1]
			cps, err := store.ParseAuditCheckpoints(string(b))
			if err != nil {
				return nil, fmt.Errorf("audit checkpoint file %s: %w", src.CheckpointFile, err)
			}
			m.Checkpoints = len(cps)
			f, err := writeFile(filepath.Join(dir, CheckpointsName), b)
			if err != nil {
				return nil, err
			}
			f.Path, f.Kind = CheckpointsName, "checkpoints"
			m.Files = append(m.Files, f)
		}
	}

	// 2. The database.
	name := SQLiteName
	if src.DB.Engine() == store.Postgres {
		name = PostgresName
	}
	d, err := src.DB.CopyDatabase(ctx, filepath.Join(dir, name), src.PGDump)
	if err != nil {
		return nil, err
	}
	f, err := hashFile(filepath.Join(dir, name))
	if err != nil {
		return nil, err
	}
	f.Path, f.Kind = name, "database"
	m.Files = append(m.Files, f)
	m.Schema, m.SchemaMigration, m.Migrations, m.AuditLastRow, m.Tables = d.Schema, d.Migration, d.Migrations, d.AuditSeq, d.Tables
	m.BlobsReferenced = len(d.BlobRefs)
	m.Key = KeyNote{Included: false, Fingerprint: fp, FieldKeyID: d.FieldKeyID, Note: keyNote}

	// 3. The blobs.
	have := map[string]bool{}
	if src.BlobDir != "" {
		files, warns, err := copyBlobs(ctx, src.BlobDir, filepath.Join(dir, BlobsDir), src.Keys)
		if err != nil {
			return nil, err
		}
		m.Warnings = append(m.Warnings, warns...)
		for _, f := range files {
			have[filepath.Base(f.Path)] = true
		}
		m.Files = append(m.Files, files...)
		m.Blobs = len(files)
	}
	if src.BlobBucket != "" {
		m.Warnings = append(m.Warnings, fmt.Sprintf("documents and photos are in the bucket %s and are not in this backup: back the bucket up on its own (versioning or replication) and check it with kangfu blobs verify", src.BlobBucket))
	}
	var missing []string
	for _, k := range d.BlobRefs {
		if src.BlobBucket != "" {
			break
		}
		if !have[k] {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		m.Warnings = append(m.Warnings, fmt.Sprintf("%d documents or photos the database refers to are not in the document store (already missing before this backup): %s",
			len(missing), strings.Join(first(missing, 5), ", ")))
	}

	// 4. The manifest, signed, last, once everything else is on disk.
	if err := flush([]string{dir}); err != nil {
		return nil, fmt.Errorf("flush %s: %w", dir, err)
	}
	if err := writeManifest(dir, m, src.Keys); err != nil {
		return nil, err
	}
	syncDir(dir)
	return m, nil
}

func first(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], "…")
	}
	return s
}

// emptyDir checks that dir does not exist or holds nothing.
func emptyDir(dir string) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(ents) > 0 {
		return fmt.Errorf("%s is not empty (it holds %s): back up into a new folder", dir, ents[0].Name())
	}
	return nil
}

// copyBlobs copies every stored blob from the store's folder to dst,
// checking each against its name (its SHA-256): a plaintext file by its
// bytes, a sealed one (R36, blob/seal.go) by opening the copy with the
// field keys of keys. Sealed files are copied sealed.
func copyBlobs(ctx context.Context, srcDir, dst string, keys *store.Keys) ([]File, []string, error) {
	var ks blob.KeySource
	if keys != nil {
		ks = blob.KeySource{Current: func() string { return "" }, Key: keys.FieldKey}
	}
	var files []File
	var warns []string
	err := filepath.WalkDir(srcDir, func(path string, de fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && path == srcDir {
				return filepath.SkipAll
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, _ := filepath.Rel(srcDir, path)
		if de.IsDir() {
			if rel == "tmp" { // uploads being written
				return filepath.SkipDir
			}
			return nil
		}
		key := de.Name()
		if !blob.ValidKey(key) || filepath.ToSlash(rel) != key[:2]+"/"+key[2:4]+"/"+key {
			warns = append(warns, fmt.Sprintf("document store: %s is not a stored document; left out", rel))
			return nil
		}
		to := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(to), 0o700); err != nil {
			return err
		}
		f, err := copyFile(path, to, "")
		if err != nil {
			return err
		}
		if f.SHA256 != key && (keys == nil || blob.CheckFile(ctx, to, key, ks) != nil) {
			os.Remove(to)
			warns = append(warns, fmt.Sprintf("document store: %s does not match its name (damaged); left out", rel))
			return nil
		}
		f.Path, f.Kind = BlobsDir+"/"+filepath.ToSlash(rel), "blob"
		files = append(files, f)
		return nil
	})
	return files, warns, err
}

// copyFile copies src to dst (which must not exist) and returns its size
// and SHA-256; the caller flushes what it copied (flush). With want set, a content that does not hash
// to want is removed and refused.
func copyFile(src, dst, want string) (File, error) {
	in, err := os.Open(src)
	if err != nil {
		return File{}, err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return File{}, err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(out, h), in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if err == nil && want != "" && sum != want {
		err = fmt.Errorf("%s changed while it was copied: its SHA-256 is now %s, the manifest says %s", src, sum, want)
	}
	if err != nil {
		os.Remove(dst)
		return File{}, err
	}
	return File{Size: n, SHA256: sum}, nil
}

func writeFile(path string, b []byte) (File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return File{}, err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	sum := sha256.Sum256(b)
	return File{Size: int64(len(b)), SHA256: hex.EncodeToString(sum[:])}, err
}

// hashFile returns the size and SHA-256 of a file.
func hashFile(path string) (File, error) {
	f, err := os.Open(path)
	if err != nil {
		return File{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return File{}, err
	}
	return File{Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// signedBytes is the manifest as signed: indented JSON without the signature.
func signedBytes(m *Manifest) ([]byte, error) {
	c := *m
	c.Signature = ""
	return json.MarshalIndent(&c, "", "  ")
}

func writeManifest(dir string, m *Manifest, keys *store.Keys) error {
	slices.SortFunc(m.Files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	b, err := signedBytes(m)
	if err != nil {
		return err
	}
	if m.Signature, err = keys.SignManifest(b); err != nil {
		return err
	}
	b, err = json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, ManifestName+".tmp")
	if _, err := writeFile(tmp, append(b, '\n')); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, ManifestName))
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
