package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"kangfu/internal/casework"
)

// Policy versions (PRODUCT §5): the store keeps them and resolves them with
// casework.ResolvePolicy. Every method takes the acting user: viewing needs
// PermViewPolicy at the org, creating, editing and withdrawing
// PermEditPolicy; anything outside the actor's subtree is not found.

const policyVersionColumns = `v.id, v.org_id, o.name, o.path, v.effective_from, v.settings, v.note, v.created_by, v.created_by_name,
	v.created_at, v.updated_at, v.withdrawn, v.withdrawn_at, v.withdrawn_by, v.withdraw_reason`

func scanPolicyVersion(sc interface{ Scan(...any) error }) (*casework.PolicyVersion, error) {
	var v casework.PolicyVersion
	var settings string
	var withdrawnAt sql.NullTime
	if err := sc.Scan(&v.ID, &v.OrgID, &v.OrgName, &v.OrgPath, &v.EffectiveFrom, &settings, &v.Note, &v.CreatedByID, &v.CreatedByName,
		&v.CreatedAt, &v.UpdatedAt, &v.Withdrawn, &withdrawnAt, &v.WithdrawnBy, &v.WithdrawReason); err != nil {
		return nil, err
	}
	v.CreatedAt, v.UpdatedAt, v.WithdrawnAt = v.CreatedAt.UTC(), v.UpdatedAt.UTC(), scanTime(withdrawnAt)
	var raw map[string]string
	if err := json.Unmarshal([]byte(settings), &raw); err != nil {
		return nil, fmt.Errorf("policy version %s: settings: %w", v.ID, err)
	}
	v.Settings = map[string]*casework.Value{}
	for k, text := range raw {
		val, known, err := casework.ParseStoredSetting(k, text)
		if err != nil {
			return nil, fmt.Errorf("policy version %s: %w", v.ID, err)
		}
		if known {
			v.Settings[k] = val
		}
	}
	return &v, nil
}

func encodeSettings(m map[string]*casework.Value) string {
	raw := map[string]string{}
	for k, v := range m {
		if v == nil {
			raw[k] = casework.InheritValue
		} else {
			raw[k] = v.String()
		}
	}
	b, _ := json.Marshal(raw) // a map of strings always marshals
	return string(b)
}

// orgChain returns the org and its ancestors, root first.
func (tx *Tx) orgChain(ctx context.Context, org *casework.Org) ([]*casework.Org, error) {
	ids := strings.Split(strings.Trim(org.Path, "/"), "/")
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := tx.Query(ctx, `SELECT `+orgColumns+` FROM orgs o WHERE o.id IN (?`+strings.Repeat(", ?", len(ids)-1)+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("org chain: %w", err)
	}
	defer rows.Close()
	var chain []*casework.Org
	for rows.Next() {
		o, err := scanOrg(rows)
		if err != nil {
			return nil, err
		}
		chain = append(chain, o)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(chain, func(a, b *casework.Org) int { return len(a.Path) - len(b.Path) })
	return chain, nil
}

// policyVersionsAt returns the versions attached to the orgs, newest
// effective date first.
func (tx *Tx) policyVersionsAt(ctx context.Context, orgIDs []string, withdrawn bool) ([]*casework.PolicyVersion, error) {
	if len(orgIDs) == 0 {
		return nil, nil
	}
	args := make([]any, len(orgIDs))
	for i, id := range orgIDs {
		args[i] = id
	}
	q := `SELECT ` + policyVersionColumns + ` FROM policy_versions v JOIN orgs o ON o.id = v.org_id
		WHERE v.org_id IN (?` + strings.Repeat(", ?", len(orgIDs)-1) + `)`
	if !withdrawn {
		q += ` AND NOT v.withdrawn`
	}
	rows, err := tx.Query(ctx, q+` ORDER BY v.effective_from DESC, v.created_at DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("list policy versions: %w", err)
	}
	defer rows.Close()
	var out []*casework.PolicyVersion
	for rows.Next() {
		v, err := scanPolicyVersion(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// resolvePolicy resolves the policy of an org on a date, plus extra
// versions not stored (a preview's candidate).
func (tx *Tx) resolvePolicy(ctx context.Context, org *casework.Org, date casework.Date, extra ...*casework.PolicyVersion) (*casework.EffectivePolicy, error) {
	chain, err := tx.orgChain(ctx, org)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(chain))
	for i, o := range chain {
		ids[i] = o.ID
	}
	vs, err := tx.policyVersionsAt(ctx, ids, false)
	if err != nil {
		return nil, err
	}
	return casework.ResolvePolicy(chain, append(vs, extra...), date), nil
}

// EffectivePolicy returns every setting's value for the org on a local
// date, with the source of each (national default, template, or which
// org's version from which date). A zero date means today in the org's
// zone. ENOTFOUND outside the actor's scope; EFORBIDDEN for a role that
// sees the org but not its policy.
func (db *DB) EffectivePolicy(ctx context.Context, actor *casework.Actor, orgID string, date casework.Date) (*casework.EffectivePolicy, error) {
	var p *casework.EffectivePolicy
	err := db.Read(ctx, func(tx *Tx) error {
		org, err := tx.orgFor(ctx, actor, casework.PermViewPolicy, orgID)
		if err != nil {
			return err
		}
		if date.IsZero() {
			date = tx.today(org)
		}
		p, err = tx.resolvePolicy(ctx, org, date)
		return err
	})
	return p, err
}

// EffectivePolicyAt is EffectivePolicy for the local date of the instant
// in the org's zone: a check-in at 23:30 Beijing time (15:30 UTC) is judged
// by that day's policy.
func (db *DB) EffectivePolicyAt(ctx context.Context, actor *casework.Actor, orgID string, at time.Time) (*casework.EffectivePolicy, error) {
	var p *casework.EffectivePolicy
	err := db.Read(ctx, func(tx *Tx) error {
		org, err := tx.orgFor(ctx, actor, casework.PermViewPolicy, orgID)
		if err != nil {
			return err
		}
		p, err = tx.resolvePolicy(ctx, org, casework.DateOf(at, org.Location()))
		return err
	})
	return p, err
}

// PolicyVersionFilter selects versions for ListPolicyVersions.
type PolicyVersionFilter struct {
	Inherited bool // also the versions of the org's ancestors
	Withdrawn bool // also withdrawn versions
}

// ListPolicyVersions returns the versions attached to the org (and its
// ancestors when asked), newest effective date first, and today's date in
// the org's zone (to tell scheduled from effective).
func (db *DB) ListPolicyVersions(ctx context.Context, actor *casework.Actor, orgID string, f PolicyVersionFilter) ([]*casework.PolicyVersion, casework.Date, error) {
	var out []*casework.PolicyVersion
	var today casework.Date
	err := db.Read(ctx, func(tx *Tx) error {
		org, err := tx.orgFor(ctx, actor, casework.PermViewPolicy, orgID)
		if err != nil {
			return err
		}
		today = tx.today(org)
		ids := []string{org.ID}
		if f.Inherited {
			ids = strings.Split(strings.Trim(org.Path, "/"), "/")
		}
		out, err = tx.policyVersionsAt(ctx, ids, f.Withdrawn)
		return err
	})
	return out, today, err
}

// PolicyNode is one org of the policy tree with the versions attached to it.
type PolicyNode struct {
	Org      *casework.Org
	Today    casework.Date
	Versions []*casework.PolicyVersion // withdrawn ones included, newest first
}

// PolicyTree returns the orgs in the actor's policy scope, ordered as a
// tree, each with its versions.
func (db *DB) PolicyTree(ctx context.Context, actor *casework.Actor) ([]PolicyNode, error) {
	var nodes []PolicyNode
	err := db.Read(ctx, func(tx *Tx) error {
		scope, args := scopeClause("o.path", actor.Scope(casework.PermViewPolicy))
		rows, err := tx.Query(ctx, `SELECT `+orgColumns+` FROM orgs o WHERE NOT o.retired AND `+scope, args...)
		if err != nil {
			return fmt.Errorf("policy tree: %w", err)
		}
		var orgs []*casework.Org
		for rows.Next() {
			o, err := scanOrg(rows)
			if err != nil {
				rows.Close()
				return err
			}
			orgs = append(orgs, o)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		sortTree(orgs)
		vrows, err := tx.Query(ctx, `SELECT `+policyVersionColumns+` FROM policy_versions v JOIN orgs o ON o.id = v.org_id
			WHERE `+scope+` ORDER BY v.effective_from DESC, v.created_at DESC`, args...)
		if err != nil {
			return fmt.Errorf("policy tree versions: %w", err)
		}
		defer vrows.Close()
		byOrg := map[string][]*casework.PolicyVersion{}
		for vrows.Next() {
			v, err := scanPolicyVersion(vrows)
			if err != nil {
				return err
			}
			byOrg[v.OrgID] = append(byOrg[v.OrgID], v)
		}
		for _, o := range orgs {
			nodes = append(nodes, PolicyNode{Org: o, Today: tx.today(o), Versions: byOrg[o.ID]})
		}
		return vrows.Err()
	})
	return nodes, err
}

// policyVersionFor loads a version whose org the actor holds perm at;
// outside the actor's sight it is not found, in sight without perm
// forbidden. It returns the version's org too.
func (tx *Tx) policyVersionFor(ctx context.Context, actor *casework.Actor, perm casework.Perm, id string, lock bool) (*casework.PolicyVersion, *casework.Org, error) {
	q := `SELECT ` + policyVersionColumns + ` FROM policy_versions v JOIN orgs o ON o.id = v.org_id WHERE v.id = ?`
	if lock {
		q += tx.forUpdate()
	}
	v, err := scanPolicyVersion(tx.QueryRow(ctx, q, id))
	if err != nil {
		return nil, nil, notFound(err, "政策版本", "policy version")
	}
	if !actor.Can(perm, v.OrgPath) {
		if actor.Can(casework.PermViewPolicy, v.OrgPath) {
			return nil, nil, casework.Errorf(casework.EFORBIDDEN, "您的角色不能修改政策", "your role cannot change policy")
		}
		return nil, nil, casework.NotFound("政策版本", "policy version")
	}
	org, err := tx.orgByID(ctx, v.OrgID)
	return v, org, err
}

// GetPolicyVersion returns one version in the actor's policy scope.
func (db *DB) GetPolicyVersion(ctx context.Context, actor *casework.Actor, id string) (*casework.PolicyVersion, error) {
	var v *casework.PolicyVersion
	err := db.Read(ctx, func(tx *Tx) error {
		var err error
		v, _, err = tx.policyVersionFor(ctx, actor, casework.PermViewPolicy, id, false)
		return err
	})
	return v, err
}

// checkPolicyDate refuses a second live version at one org on one date;
// except is the version being edited.
func (tx *Tx) checkPolicyDate(ctx context.Context, orgID string, date casework.Date, except string) error {
	var n int
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM policy_versions WHERE org_id = ? AND effective_from = ? AND NOT withdrawn AND id <> ?`,
		orgID, date, except).Scan(&n); err != nil {
		return fmt.Errorf("check policy date: %w", err)
	}
	if n > 0 {
		return casework.Invalid("effective_from", "本机构已有 %s 生效的政策版本：请修改或撤回它，或另选日期",
			"this org already has a version effective %s: edit or withdraw it, or pick another date", date)
	}
	return nil
}

// editableOrg loads the org for a new version and checks it can take one.
func (tx *Tx) editableOrg(ctx context.Context, actor *casework.Actor, orgID string) (*casework.Org, error) {
	org, err := tx.orgFor(ctx, actor, casework.PermEditPolicy, orgID)
	if err != nil {
		return nil, err
	}
	if org.Retired {
		return nil, casework.Errorf(casework.ECONFLICT, "“%s”已撤销，不能设置政策", "%q is retired and takes no policy", org.Name)
	}
	return org, nil
}

// newVersion checks a new version for the org: the org takes policy, the
// settings validate, and the date is free and not in the past.
func (tx *Tx) newVersion(ctx context.Context, actor *casework.Actor, orgID string, in casework.PolicyVersionInput) (*casework.Org, map[string]*casework.Value, error) {
	org, err := tx.editableOrg(ctx, actor, orgID)
	if err != nil {
		return nil, nil, err
	}
	named, err := in.Validate(tx.today(org))
	if err != nil {
		return nil, nil, err
	}
	if err := tx.checkPolicyDate(ctx, org.ID, in.EffectiveFrom, ""); err != nil {
		return nil, nil, err
	}
	return org, named, nil
}

// PreviewPolicyVersion validates a new version as CreatePolicyVersion does
// and returns, for each setting it names, what is in force at the org on
// its date and what would be. It writes nothing.
func (db *DB) PreviewPolicyVersion(ctx context.Context, actor *casework.Actor, orgID string, in casework.PolicyVersionInput) (*casework.PolicyPreview, error) {
	var pv *casework.PolicyPreview
	err := db.Read(ctx, func(tx *Tx) error {
		org, named, err := tx.newVersion(ctx, actor, orgID, in)
		if err != nil {
			return err
		}
		before, err := tx.resolvePolicy(ctx, org, in.EffectiveFrom)
		if err != nil {
			return err
		}
		after, err := tx.resolvePolicy(ctx, org, in.EffectiveFrom,
			&casework.PolicyVersion{ID: "preview", OrgID: org.ID, EffectiveFrom: in.EffectiveFrom, Settings: named})
		if err != nil {
			return err
		}
		pv = casework.DiffPolicy(before, after, named)
		return nil
	})
	return pv, err
}

// CreatePolicyVersion attaches a new version to the org. It takes effect
// on in.EffectiveFrom, which must be tomorrow or later in the org's zone, so
// a change never alters a day already begun (EINVALID otherwise, with every
// bad field named). PermEditPolicy at the org; audited.
func (db *DB) CreatePolicyVersion(ctx context.Context, actor *casework.Actor, orgID string, in casework.PolicyVersionInput) (*casework.PolicyVersion, error) {
	var v *casework.PolicyVersion
	err := db.Write(ctx, func(tx *Tx) error {
		org, named, err := tx.newVersion(ctx, actor, orgID, in)
		if err != nil {
			return err
		}
		id := NewID()
		settings := encodeSettings(named)
		_, err = tx.Exec(ctx, `INSERT INTO policy_versions (id, org_id, effective_from, settings, note, created_by, created_by_name, created_at, updated_at, withdrawn)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, org.ID, in.EffectiveFrom, settings, in.Note, actor.UserID, actorName(actor), tx.now, tx.now, false)
		if errors.Is(err, ErrUnique) { // another request won the race for the date
			return casework.Invalid("effective_from", "本机构已有 %s 生效的政策版本：请修改或撤回它，或另选日期",
				"this org already has a version effective %s: edit or withdraw it, or pick another date", in.EffectiveFrom)
		}
		if err != nil {
			return fmt.Errorf("insert policy version: %w", err)
		}
		if err := tx.Audit(ctx, actor, AuditEntry{Action: "policy.create", TargetType: "policy_version", TargetID: id, OrgID: org.ID,
			Reason: in.Note, Detail: map[string]any{"effective_from": in.EffectiveFrom.String(), "settings": json.RawMessage(settings)}}); err != nil {
			return err
		}
		v, _, err = tx.policyVersionFor(ctx, actor, casework.PermViewPolicy, id, false)
		return err
	})
	return v, err
}

func actorName(a *casework.Actor) string {
	if a.Name != "" {
		return a.Name
	}
	return a.Username
}

// errPolicyEffective refuses a change to a version already in force.
func errPolicyEffective(v *casework.PolicyVersion) error {
	return casework.Errorf(casework.ECONFLICT, "该政策版本已于 %s 生效，不能修改或撤回：请新建一个更晚生效的版本",
		"this version took effect on %s and can no longer be changed or withdrawn: create a new version effective later", v.EffectiveFrom)
}

// UpdatePolicyVersion replaces the date, settings and note of a version
// not yet effective. ECONFLICT once it is effective or withdrawn.
func (db *DB) UpdatePolicyVersion(ctx context.Context, actor *casework.Actor, id string, in casework.PolicyVersionInput) (*casework.PolicyVersion, error) {
	var v *casework.PolicyVersion
	err := db.Write(ctx, func(tx *Tx) error {
		cur, org, err := tx.policyVersionFor(ctx, actor, casework.PermEditPolicy, id, true)
		if err != nil {
			return err
		}
		today := tx.today(org)
		switch cur.State(today) {
		case "withdrawn":
			return casework.Errorf(casework.ECONFLICT, "该政策版本已撤回", "this version has been withdrawn")
		case "effective":
			return errPolicyEffective(cur)
		}
		named, err := in.Validate(today)
		if err != nil {
			return err
		}
		if err := tx.checkPolicyDate(ctx, org.ID, in.EffectiveFrom, id); err != nil {
			return err
		}
		settings := encodeSettings(named)
		if _, err := tx.Exec(ctx, `UPDATE policy_versions SET effective_from = ?, settings = ?, note = ?, updated_at = ? WHERE id = ?`,
			in.EffectiveFrom, settings, in.Note, tx.now, id); err != nil {
			return fmt.Errorf("update policy version: %w", err)
		}
		if err := tx.Audit(ctx, actor, AuditEntry{Action: "policy.update", TargetType: "policy_version", TargetID: id, OrgID: org.ID, Reason: in.Note,
			Detail: map[string]any{"from": map[string]any{"effective_from": cur.EffectiveFrom.String(), "settings": json.RawMessage(encodeSettings(cur.Settings))},
				"to": map[string]any{"effective_from": in.EffectiveFrom.String(), "settings": json.RawMessage(settings)}}}); err != nil {
			return err
		}
		v, _, err = tx.policyVersionFor(ctx, actor, casework.PermViewPolicy, id, false)
		return err
	})
	return v, err
}

// WithdrawPolicyVersion withdraws a version not yet effective, with a
// reason; the org then inherits again what it would have overridden. The
// row stays, marked withdrawn. ECONFLICT once effective or withdrawn.
func (db *DB) WithdrawPolicyVersion(ctx context.Context, actor *casework.Actor, id, reason string) error {
	return db.Write(ctx, func(tx *Tx) error {
		cur, org, err := tx.policyVersionFor(ctx, actor, casework.PermEditPolicy, id, true)
		if err != nil {
			return err
		}
		switch cur.State(tx.today(org)) {
		case "withdrawn":
			return casework.Errorf(casework.ECONFLICT, "该政策版本已撤回", "this version has already been withdrawn")
		case "effective":
			return errPolicyEffective(cur)
		}
		reason = strings.TrimSpace(reason)
		if reason == "" {
			return casework.Invalid("reason", "请填写撤回原因", "a reason is required")
		}
		if err := casework.CheckText("reason", reason, casework.MaxReason); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE policy_versions SET withdrawn = ?, withdrawn_at = ?, withdrawn_by = ?, withdraw_reason = ?, updated_at = ? WHERE id = ?`,
			true, tx.now, actorName(actor), reason, tx.now, id); err != nil {
			return fmt.Errorf("withdraw policy version: %w", err)
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "policy.withdraw", TargetType: "policy_version", TargetID: id, OrgID: org.ID, Reason: reason,
			Detail: map[string]any{"effective_from": cur.EffectiveFrom.String()}})
	})
}
