package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"kangfu/internal/casework"
)

// Rewards catalogue and redemption (积分兑换; issue 14 §4, migration 0034).
// An office keeps rewards in kind with a points price and a stock. The
// person's app shows a one-time code (short-lived, single use, bound to the
// person; only its hash is stored) that the worker enters with the person
// present; the redemption, its ledger row and the stock change in one
// transaction, or not at all.

// Reward kinds: in kind only. CARE.md A ("no cash"; 粤关爱 redeems soap,
// rice and oil at the centre; NIDA 1995: staff buy retail items).
const (
	RewardGoods   = "goods"   // an item: soap, rice, oil, a kettle
	RewardService = "service" // a service in kind: a haircut, a bus pass, a training course
)

// RewardCodeTTL is how long a redemption code lives; RewardCodeTries is
// how many wrong entries close the person's open codes.
const (
	RewardCodeTTL   = 10 * time.Minute
	RewardCodeTries = 5
)

// cashWords are names that read as cash or its equivalent, which a
// catalogue refuses (CARE.md A: redemption in kind, no cash).
var cashWords = []string{"现金", "红包", "转账", "充值", "储值", "购物卡", "礼品卡", "代金券", "提现", "话费",
	"cash", "money", "gift card", "prepaid", "voucher", "top-up", "top up", "transfer"}

// Reward is one item of an office's catalogue.
type Reward struct {
	ID        string
	OrgID     string
	OrgName   string
	Name      string
	Kind      string
	Note      string
	Points    int
	Stock     int
	RetiredAt time.Time // zero while offered
	CreatedAt time.Time
	UpdatedAt time.Time
}

// RewardInput is a new reward, or a change to one.
type RewardInput struct {
	Name   string
	Kind   string
	Note   string
	Points int
	Stock  int
}

func (in *RewardInput) clean() error {
	var err error
	if in.Name, err = casework.CleanText("name", in.Name, 100); err != nil {
		return err
	}
	if in.Name == "" {
		return casework.Invalid("name", "请填写奖品名称", "give the reward's name")
	}
	low := strings.ToLower(in.Name)
	for _, w := range cashWords {
		if strings.Contains(low, w) {
			return casework.Invalid("name", "奖品只能是实物或服务，不能是现金或等同现金的卡券", "rewards are in kind only: no cash or cash-like cards or vouchers")
		}
	}
	if in.Kind != RewardGoods && in.Kind != RewardService {
		return casework.Invalid("kind", "请选择奖品类别：实物或服务", "choose the kind: goods or a service")
	}
	if in.Note, err = casework.CleanText("note", in.Note, casework.MaxReason); err != nil {
		return err
	}
	if in.Points < 1 || in.Points > 100000 {
		return casework.Invalid("points", "所需积分须在1到100000之间", "the price must be between 1 and 100000 points")
	}
	if in.Stock < 0 || in.Stock > 100000 {
		return casework.Invalid("stock", "库存须在0到100000之间", "the stock must be between 0 and 100000")
	}
	return nil
}

const rewardColumns = `r.id, r.org_id, o.name, r.name, r.kind, r.note, r.points, r.stock, r.retired_at, r.created_at, r.updated_at`

func scanReward(sc rowScanner) (*Reward, error) {
	var r Reward
	var retired sql.NullTime
	if err := sc.Scan(&r.ID, &r.OrgID, &r.OrgName, &r.Name, &r.Kind, &r.Note, &r.Points, &r.Stock, &retired, &r.CreatedAt, &r.UpdatedAt); err != nil {
		return nil, err
	}
	if retired.Valid {
		r.RetiredAt = retired.Time.UTC()
	}
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	return &r, nil
}

func (tx *Tx) rewards(ctx context.Context, where string, args ...any) ([]Reward, error) {
	rows, err := tx.Query(ctx, `SELECT `+rewardColumns+` FROM incentive_rewards r JOIN orgs o ON o.id = r.org_id WHERE `+where+
		` ORDER BY r.retired_at IS NOT NULL, r.points, r.name, r.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Reward
	for rows.Next() {
		r, err := scanReward(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *r)
	}
	return out, rows.Err()
}

// Rewards lists an office's catalogue, retired items last; needs the
// right to read help in the office.
func (db *DB) Rewards(ctx context.Context, actor *casework.Actor, orgID string) (*casework.Org, []Reward, error) {
	var org *casework.Org
	var out []Reward
	err := db.Read(ctx, func(tx *Tx) error {
		var err error
		if org, err = tx.orgFor(ctx, actor, casework.PermViewHelp, orgID); err != nil {
			return err
		}
		out, err = tx.rewards(ctx, `r.org_id = ?`, org.ID)
		return err
	})
	return org, out, err
}

// rewardFor loads a reward the actor may manage (PermWriteHelp at its
// office); outside the actor's subtree it is not found.
func (tx *Tx) rewardFor(ctx context.Context, actor *casework.Actor, id string, perm casework.Perm) (*Reward, *casework.Org, error) {
	lock := ""
	if perm != casework.PermViewHelp {
		lock = tx.forUpdate() + " OF r"
		if lock == " OF r" {
			lock = ""
		}
	}
	r, err := scanReward(tx.QueryRow(ctx, `SELECT `+rewardColumns+` FROM incentive_rewards r JOIN orgs o ON o.id = r.org_id WHERE r.id = ?`+lock, id))
	if err != nil {
		return nil, nil, notFound(err, "奖品", "reward")
	}
	org, err := tx.orgByID(ctx, r.OrgID)
	if err != nil {
		return nil, nil, err
	}
	if !actor.Can(casework.PermViewHelp, org.Path) {
		return nil, nil, casework.NotFound("奖品", "reward")
	}
	if !actor.Can(perm, org.Path) {
		return nil, nil, casework.Errorf(casework.EFORBIDDEN, "您没有权限管理该奖品", "you may not manage this reward")
	}
	return r, org, nil
}

// Reward returns one reward the actor may read.
func (db *DB) Reward(ctx context.Context, actor *casework.Actor, id string) (*Reward, error) {
	var r *Reward
	err := db.Read(ctx, func(tx *Tx) error {
		var err error
		r, _, err = tx.rewardFor(ctx, actor, id, casework.PermViewHelp)
		return err
	})
	return r, err
}

// AddReward adds an item to an office's catalogue (audited).
func (db *DB) AddReward(ctx context.Context, actor *casework.Actor, orgID string, in RewardInput) (*Reward, error) {
	if err := in.clean(); err != nil {
		return nil, err
	}
	id := NewID()
	err := db.Write(ctx, func(tx *Tx) error {
		org, err := tx.orgFor(ctx, actor, casework.PermWriteHelp, orgID)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO incentive_rewards (id, org_id, name, kind, note, points, stock, created_by, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, org.ID, in.Name, in.Kind, in.Note, in.Points, in.Stock, actorID(actor), tx.now, tx.now); err != nil {
			return fmt.Errorf("add reward: %w", err)
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "incentive.reward_add", TargetType: "reward", TargetID: id, OrgID: org.ID,
			Detail: map[string]any{"name": in.Name, "kind": in.Kind, "points": in.Points, "stock": in.Stock}})
	})
	if err != nil {
		return nil, err
	}
	return db.Reward(ctx, actor, id)
}

// UpdateReward changes a reward's name, kind, note, price and stock
// (audited with the old and new values). Past redemptions keep the name
// and price they were made at.
func (db *DB) UpdateReward(ctx context.Context, actor *casework.Actor, id string, in RewardInput) (*Reward, error) {
	if err := in.clean(); err != nil {
		return nil, err
	}
	err := db.Write(ctx, func(tx *Tx) error {
		old, org, err := tx.rewardFor(ctx, actor, id, casework.PermWriteHelp)
		if err != nil {
			return err
		}
		if !old.RetiredAt.IsZero() {
			return casework.Errorf(casework.ECONFLICT, "该奖品已下架", "this reward has been retired")
		}
		if _, err := tx.Exec(ctx, `UPDATE incentive_rewards SET name = ?, kind = ?, note = ?, points = ?, stock = ?, updated_at = ? WHERE id = ?`,
			in.Name, in.Kind, in.Note, in.Points, in.Stock, tx.now, id); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "incentive.reward_update", TargetType: "reward", TargetID: id, OrgID: org.ID,
			Detail: map[string]any{"name": in.Name, "points": in.Points, "stock": in.Stock, "old_points": old.Points, "old_stock": old.Stock}})
	})
	if err != nil {
		return nil, err
	}
	return db.Reward(ctx, actor, id)
}

// RetireReward takes a reward off the catalogue; it stays for the
// redemptions that name it.
func (db *DB) RetireReward(ctx context.Context, actor *casework.Actor, id string) error {
	return db.Write(ctx, func(tx *Tx) error {
		old, org, err := tx.rewardFor(ctx, actor, id, casework.PermWriteHelp)
		if err != nil {
			return err
		}
		if !old.RetiredAt.IsZero() {
			return casework.Errorf(casework.ECONFLICT, "该奖品已下架", "this reward has been retired")
		}
		if _, err := tx.Exec(ctx, `UPDATE incentive_rewards SET retired_at = ?, updated_at = ? WHERE id = ?`, tx.now, tx.now, id); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "incentive.reward_retire", TargetType: "reward", TargetID: id, OrgID: org.ID,
			Detail: map[string]any{"name": old.Name}})
	})
}

// catalogueFor is what a person in the org can redeem: the rewards of the
// org and of the offices above it that are still offered.
func (tx *Tx) catalogueFor(ctx context.Context, orgPath string) ([]Reward, error) {
	var ids []any
	for _, id := range strings.Split(orgPath, "/") {
		if id != "" {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	return tx.rewards(ctx, `r.retired_at IS NULL AND r.org_id IN (?`+strings.Repeat(", ?", len(ids)-1)+`)`, ids...)
}

// PersonCatalogue is what the person can redeem, for staff at the file.
func (db *DB) PersonCatalogue(ctx context.Context, actor *casework.Actor, personID string) ([]Reward, error) {
	var out []Reward
	err := db.Read(ctx, func(tx *Tx) error {
		r, err := tx.helpPerson(ctx, actor, personID, false)
		if err != nil {
			return err
		}
		out, err = tx.catalogueFor(ctx, r.OrgPath)
		return err
	})
	return out, err
}

// AppCatalogue is what the person can redeem, for the app.
func (db *DB) AppCatalogue(ctx context.Context, personID string) ([]Reward, error) {
	var out []Reward
	err := db.Read(ctx, func(tx *Tx) error {
		var path string
		if err := tx.QueryRow(ctx, `SELECT o.path FROM persons p JOIN orgs o ON o.id = p.org_id WHERE p.id = ?`, personID).Scan(&path); err != nil {
			return err
		}
		var err error
		out, err = tx.catalogueFor(ctx, path)
		return err
	})
	return out, err
}

// RedeemCode is a code the app shows; the plain code leaves the store
// only here.
type RedeemCode struct {
	Code      string
	ExpiresAt time.Time
}

func codeHash(personID, code string) string {
	sum := sha256.Sum256([]byte("kangfu-redeem\x00" + personID + "\x00" + code))
	return hex.EncodeToString(sum[:])
}

// AppRedeemCode issues the person a new 6-digit code, valid for
// RewardCodeTTL and once; any earlier open code of the person ends.
func (db *DB) AppRedeemCode(ctx context.Context, personID string) (*RedeemCode, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1000000))
	if err != nil {
		return nil, err
	}
	code := fmt.Sprintf("%06d", n.Int64())
	var out *RedeemCode
	err = db.Write(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE incentive_codes SET expires_at = ? WHERE person_id = ? AND used_at IS NULL AND expires_at > ?`,
			tx.now, personID, tx.now); err != nil {
			return err
		}
		out = &RedeemCode{Code: code, ExpiresAt: tx.now.Add(RewardCodeTTL).UTC()}
		_, err := tx.Exec(ctx, `INSERT INTO incentive_codes (id, person_id, code_hash, expires_at, created_at) VALUES (?, ?, ?, ?, ?)`,
			NewID(), personID, codeHash(personID, code), out.ExpiresAt, tx.now)
		return err
	})
	return out, err
}

// Redemption is one reward handed over.
type Redemption struct {
	ID            string
	PersonID      string
	PersonName    string
	OrgID         string
	RewardID      string
	RewardName    string
	Points        int
	LedgerID      string
	CreatedByName string
	CreatedAt     time.Time
}

var errBadRedeemCode = casework.Invalid("code", "兑换码无效、已使用或已过期，请让本人在手机上重新生成", "the code is wrong, used or expired: ask the person to show a new one")

// Redeem hands a reward to the person present at the office: the code the
// person's app shows must be theirs, open and unexpired; the reward must
// be offered at the person's office (or above) and in stock; the balance
// must cover the price. The code is spent, the stock falls by one, the
// ledger gets a row of minus the price (source 'redemption') and the
// redemption is recorded — in one transaction, so stock and balance change
// together or not at all. Neither can go below zero: the stock by a
// conditional UPDATE (rows affected), the balance under the person's row
// lock (PostgreSQL FOR UPDATE; SQLite's single writer). A person outside
// the worker's subtree is not found, as an unknown one is.
func (db *DB) Redeem(ctx context.Context, actor *casework.Actor, personID, rewardID, code string) (*Redemption, error) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
		return nil, casework.Invalid("code", "请输入本人手机上显示的6位兑换码", "enter the 6-digit code shown on the person's phone")
	}
	var out *Redemption
	err := db.Write(ctx, func(tx *Tx) error {
		r, err := tx.helpPerson(ctx, actor, personID, true)
		if err != nil {
			return err
		}
		// Lock the person: concurrent redemptions for one person queue here.
		var lock string
		if err := tx.QueryRow(ctx, `SELECT id FROM persons WHERE id = ?`+tx.forUpdate(), personID).Scan(&lock); err != nil {
			return err
		}
		var rw Reward
		var rwPath string
		var retired sql.NullTime
		err = tx.QueryRow(ctx, `SELECT r.id, r.name, r.points, r.retired_at, o.path FROM incentive_rewards r JOIN orgs o ON o.id = r.org_id WHERE r.id = ?`, rewardID).
			Scan(&rw.ID, &rw.Name, &rw.Points, &retired, &rwPath)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && (retired.Valid || !strings.HasPrefix(r.OrgPath, rwPath))) {
			return casework.Invalid("reward_id", "本人所在单位的奖品目录中没有这件奖品", "there is no such reward in the catalogue of the person's office")
		}
		if err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `UPDATE incentive_codes SET used_at = ? WHERE person_id = ? AND code_hash = ? AND used_at IS NULL AND expires_at > ? AND attempts < ?`,
			tx.now, personID, codeHash(personID, code), tx.now, RewardCodeTries)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errBadRedeemCode
		}
		var codeID string
		if err := tx.QueryRow(ctx, `SELECT id FROM incentive_codes WHERE person_id = ? AND code_hash = ? AND used_at = ?`, personID, codeHash(personID, code), tx.now).
			Scan(&codeID); err != nil {
			return err
		}
		var bal sql.NullInt64
		if err := tx.QueryRow(ctx, `SELECT SUM(points) FROM incentive_ledger WHERE person_id = ?`, personID).Scan(&bal); err != nil {
			return err
		}
		if int(bal.Int64) < rw.Points {
			return casework.Errorf(casework.ECONFLICT, "积分不足：需要%d分，本人现有%d分", "not enough points: %d needed, the person has %d", rw.Points, bal.Int64)
		}
		res, err = tx.Exec(ctx, `UPDATE incentive_rewards SET stock = stock - 1, updated_at = ? WHERE id = ? AND stock > 0 AND retired_at IS NULL`, tx.now, rw.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return casework.Errorf(casework.ECONFLICT, "“%s”已无库存", "%q is out of stock", rw.Name)
		}
		org, err := tx.orgByID(ctx, r.OrgID)
		if err != nil {
			return err
		}
		out = &Redemption{ID: NewID(), PersonID: personID, PersonName: r.Name, OrgID: r.OrgID, RewardID: rw.ID, RewardName: rw.Name,
			Points: rw.Points, LedgerID: NewID(), CreatedByName: actor.Name, CreatedAt: tx.now.UTC()}
		if _, err := tx.Exec(ctx, `INSERT INTO incentive_ledger (id, person_id, org_id, rule, points, source_kind, source_id, day, note, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, 'redemption', ?, ?, ?, ?, ?)`, out.LedgerID, personID, r.OrgID, casework.AwardRedeemed, -rw.Points, out.ID,
			tx.today(org), rw.Name, actorID(actor), tx.now); err != nil {
			return fmt.Errorf("ledger row: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO incentive_redemptions (id, person_id, org_id, reward_id, reward_name, points, ledger_id, code_id, created_by, created_by_name, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, out.ID, personID, r.OrgID, rw.ID, rw.Name, rw.Points, out.LedgerID, codeID, actorID(actor), actor.Name, tx.now); err != nil {
			return fmt.Errorf("redemption: %w", err)
		}
		if err := tx.event(ctx, actor, personID, r.OrgID, "incentive.redeemed", map[string]any{"reward": rw.Name, "points": -rw.Points}); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "incentive.redeem", TargetType: "person", TargetID: personID, OrgID: r.OrgID,
			Detail: map[string]any{"redemption_id": out.ID, "reward_id": rw.ID, "points": rw.Points}})
	})
	if errors.Is(err, errBadRedeemCode) {
		// A wrong entry counts against the person's open codes (in its own
		// transaction: the failed one rolled back), so a code cannot be
		// guessed at the counter.
		if werr := db.Write(ctx, func(tx *Tx) error {
			_, err := tx.Exec(ctx, `UPDATE incentive_codes SET attempts = attempts + 1 WHERE person_id = ? AND used_at IS NULL AND expires_at > ?`, personID, tx.now)
			return err
		}); werr != nil {
			return nil, werr
		}
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Redemptions lists the redemptions in an office's subtree, newest first
// (at most limit).
func (db *DB) Redemptions(ctx context.Context, actor *casework.Actor, orgID string, limit int) (*casework.Org, []Redemption, error) {
	var org *casework.Org
	var out []Redemption
	err := db.Read(ctx, func(tx *Tx) error {
		var err error
		if org, err = tx.orgFor(ctx, actor, casework.PermViewHelp, orgID); err != nil {
			return err
		}
		out, err = tx.redemptions(ctx, `x.org_id IN (SELECT id FROM orgs WHERE path LIKE ? ESCAPE '\')`, []any{likePrefix(org.Path)}, limit)
		return err
	})
	return org, out, err
}

func (tx *Tx) redemptions(ctx context.Context, where string, args []any, limit int) ([]Redemption, error) {
	rows, err := tx.Query(ctx, `SELECT x.id, x.person_id, p.name, x.org_id, x.reward_id, x.reward_name, x.points, x.ledger_id, x.created_by_name, x.created_at
		FROM incentive_redemptions x JOIN persons p ON p.id = x.person_id WHERE p.sealed_at IS NULL AND `+where+` ORDER BY x.created_at DESC, x.id DESC LIMIT ?`,
		append(args, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Redemption
	for rows.Next() {
		var x Redemption
		if err := rows.Scan(&x.ID, &x.PersonID, &x.PersonName, &x.OrgID, &x.RewardID, &x.RewardName, &x.Points, &x.LedgerID, &x.CreatedByName, &x.CreatedAt); err != nil {
			return nil, err
		}
		x.CreatedAt = x.CreatedAt.UTC()
		out = append(out, x)
	}
	return out, rows.Err()
}

// IncentiveMonth is an office's points issued and redeemed in a month.
type IncentiveMonth struct {
	Month    string // YYYY-MM
	Issued   int    // awards less reversals and corrections
	Redeemed int    // as a positive number
}

// IncentiveMonths returns the points issued and redeemed per month of the
// year in the office's subtree (12 rows, January first), with the budget
// warning of the office's schedule.
func (db *DB) IncentiveMonths(ctx context.Context, actor *casework.Actor, orgID string, year int) (*casework.Org, []IncentiveMonth, casework.IncentiveSchedule, error) {
	var org *casework.Org
	var s casework.IncentiveSchedule
	out := make([]IncentiveMonth, 12)
	for i := range out {
		out[i].Month = fmt.Sprintf("%04d-%02d", year, i+1)
	}
	if year < 2000 || year > 2200 {
		return nil, nil, s, casework.Invalid("year", "年份无效", "the year is not valid")
	}
	err := db.Read(ctx, func(tx *Tx) error {
		var err error
		if org, err = tx.orgFor(ctx, actor, casework.PermViewHelp, orgID); err != nil {
			return err
		}
		p, err := tx.resolvePolicy(ctx, org, tx.today(org))
		if err != nil {
			return err
		}
		s = casework.IncentiveScheduleOf(p)
		rows, err := tx.Query(ctx, `SELECT substr(day, 6, 2), rule, SUM(points) FROM incentive_ledger
			WHERE org_id IN (SELECT id FROM orgs WHERE path LIKE ? ESCAPE '\') AND day >= ? AND day <= ?
			GROUP BY substr(day, 6, 2), rule`, likePrefix(org.Path), fmt.Sprintf("%04d-01-01", year), fmt.Sprintf("%04d-12-31", year))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m, rule string
			var n int
			if err := rows.Scan(&m, &rule, &n); err != nil {
				return err
			}
			var i int
			fmt.Sscanf(m, "%d", &i)
			if i < 1 || i > 12 {
				continue
			}
			if rule == casework.AwardRedeemed {
				out[i-1].Redeemed -= n
			} else {
				out[i-1].Issued += n
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, nil, s, err
	}
	return org, out, s, nil
}
