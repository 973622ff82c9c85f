package store

import (
	"context"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// auditHeadMACMigration is the migration that adds audit_head.mac; Migrate
// keys an existing head when it applies it.
const auditHeadMACMigration = "0026_harden.sql"

// headMAC keys the audit head (issue 15 §1): HMAC-SHA256 with the audit
// key over the head's seq and hash, under a label of its own so a row's
// hash is never a valid head MAC.
func headMAC(key []byte, seq int64, hash string) string {
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "kangfu audit head v1\n%d\n%s", seq, hash)
	return hex.EncodeToString(m.Sum(nil))
}

// keyAuditHead keys the head as it stands (once, when the mac column is
// added; an empty chain's head too, so emptying the log and clearing the
// MAC does not pass).
func (tx *Tx) keyAuditHead(ctx context.Context) error {
	var seq int64
	var hash string
	if err := tx.QueryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&seq, &hash); err != nil {
		return fmt.Errorf("audit head: %w", err)
	}
	_, err := tx.Exec(ctx, `UPDATE audit_head SET mac = ? WHERE id = 1`, headMAC(tx.db.keys.Audit, seq, hash))
	return err
}

// AuditCheckpoint is a signed statement of the audit chain's head at a
// moment: row Seq had hash Hash. Kept outside the database (a file the
// operator ships elsewhere, a line an auditor keeps), it lets verify-audit
// tell that rows were removed even by a writer who also moved the head
// back to an earlier, validly keyed state.
//
// The signature is Ed25519 with a key derived from the server key, so an
// auditor can check a line with the public key alone (PublicKey) and
// cannot make one.
type AuditCheckpoint struct {
	Seq  int64
	Hash string
	At   time.Time
	Sig  []byte
}

const checkpointPrefix = "kangfu-audit-checkpoint v1"

// checkpointKey derives the checkpoint signing key from the server key.
func (k *Keys) checkpointKey() (ed25519.PrivateKey, error) {
	if len(k.secret) == 0 {
		return nil, errors.New("audit checkpoints: keys were not derived from a secret key")
	}
	seed, err := hkdf.Key(sha256.New, k.secret, nil, "kangfu audit checkpoint v1", ed25519.SeedSize)
	if err != nil {
		return nil, err
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// CheckpointPublicKey is the public key that checks checkpoint lines, in
// base64: publish it to auditors.
func (db *DB) CheckpointPublicKey() (string, error) {
	return db.keys.checkpointPublicKey()
}

func (k *Keys) checkpointPublicKey() (string, error) {
	priv, err := k.checkpointKey()
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(priv.Public().(ed25519.PublicKey)), nil
}

func (c *AuditCheckpoint) signed() []byte {
	return fmt.Appendf(nil, "%s seq=%d hash=%s at=%s", checkpointPrefix, c.Seq, c.Hash, c.At.UTC().Format(time.RFC3339))
}

// String is the checkpoint as one line:
// "kangfu-audit-checkpoint v1 seq=N hash=H at=T sig=S".
func (c AuditCheckpoint) String() string {
	return string(c.signed()) + " sig=" + base64.StdEncoding.EncodeToString(c.Sig)
}

// ParseAuditCheckpoint reads a line written by AuditCheckpoint.String. The
// signature is checked by VerifyAudit (it needs the key).
func ParseAuditCheckpoint(line string) (AuditCheckpoint, error) {
	var c AuditCheckpoint
	rest, ok := strings.CutPrefix(strings.TrimSpace(line), checkpointPrefix+" ")
	if !ok {
		return c, errors.New("not an audit checkpoint line (it must start with \"" + checkpointPrefix + "\")")
	}
	f := map[string]string{}
	for _, kv := range strings.Fields(rest) {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return c, fmt.Errorf("audit checkpoint: %q is not key=value", kv)
		}
		f[k] = v
	}
	var err error
	if c.Seq, err = strconv.ParseInt(f["seq"], 10, 64); err != nil || c.Seq < 0 {
		return c, fmt.Errorf("audit checkpoint: seq %q is not a row number", f["seq"])
	}
	c.Hash = f["hash"]
	if _, err := hex.DecodeString(c.Hash); err != nil || (c.Seq > 0 && len(c.Hash) != 64) {
		return c, fmt.Errorf("audit checkpoint: hash %q is not a chain hash", c.Hash)
	}
	if c.At, err = time.Parse(time.RFC3339, f["at"]); err != nil {
		return c, fmt.Errorf("audit checkpoint: at %q is not a time", f["at"])
	}
	if c.Sig, err = base64.StdEncoding.DecodeString(f["sig"]); err != nil || len(c.Sig) != ed25519.SignatureSize {
		return c, errors.New("audit checkpoint: sig is not a signature")
	}
	return c, nil
}

// ParseAuditCheckpoints reads checkpoint lines (a checkpoint file); blank
// lines and lines starting with # are skipped, a bad line is an error
// naming it.
func ParseAuditCheckpoints(text string) ([]AuditCheckpoint, error) {
	var out []AuditCheckpoint
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		c, err := ParseAuditCheckpoint(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// AuditCheckpoint signs the audit chain's current head.
func (db *DB) AuditCheckpoint(ctx context.Context) (AuditCheckpoint, error) {
	var c AuditCheckpoint
	k, err := db.keys.checkpointKey()
	if err != nil {
		return c, err
	}
	err = db.Read(ctx, func(tx *Tx) error {
		return tx.QueryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&c.Seq, &c.Hash)
	})
	if err != nil {
		return c, fmt.Errorf("audit head: %w", err)
	}
	c.At = db.Now().UTC().Truncate(time.Second)
	c.Sig = ed25519.Sign(k, c.signed())
	return c, nil
}

// checkCheckpoint checks a checkpoint's signature against the public keys
// (base64) of this server's key and of the keys before master key rotations.
func checkCheckpoint(c *AuditCheckpoint, pubs []string) error {
	for _, p := range pubs {
		if pub, err := base64.StdEncoding.DecodeString(p); err == nil && len(pub) == ed25519.PublicKeySize &&
			ed25519.Verify(ed25519.PublicKey(pub), c.signed(), c.Sig) {
			return nil
		}
	}
	return fmt.Errorf("audit checkpoint of row %d at %s: the signature does not match this server's key (forged, altered or from another installation)",
		c.Seq, c.At.UTC().Format(time.RFC3339))
}

// checkpointAt names when the checkpoint of seq was signed.
func checkpointAt(cs []AuditCheckpoint, seq int64) string {
	for _, c := range cs {
		if c.Seq == seq {
			return c.At.UTC().Format(time.RFC3339)
		}
	}
	return ""
}
