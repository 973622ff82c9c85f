package casework

// app_pin.go: the app's 6-digit PIN (issue 4 §2, §3). The PIN is chosen at
// activation and may be changed in the app's settings with the old one;
// the server keeps only its argon2id hash and checks the old PIN, counting
// wrong attempts (store.ChangeDevicePIN).

import "time"

// PIN attempt limit: after PINMaxFailures wrong old PINs in a row the
// device may not change its PIN for PINLockFor. A 6-digit PIN has a
// million values; five guesses per quarter hour make guessing hopeless.
const (
	PINMaxFailures = 5
	PINLockFor     = 15 * time.Minute
)

// WeakPIN reports whether a 6-digit PIN is one of the first guesses of
// anyone holding the phone: one digit six times (000000, 888888) or a run
// up or down (123456, 012345, 987654).
func WeakPIN(pin string) bool {
	if len(pin) != 6 {
		return false
	}
	same, up, down := true, true, true
	for i := 1; i < len(pin); i++ {
		d := int(pin[i]) - int(pin[i-1])
		same = same && d == 0
		up = up && d == 1
		down = down && d == -1
	}
	return same || up || down
}

// CheckNewPIN checks a PIN the person chooses, typed twice: 6 digits, both
// the same, not too simple. field names the first input in the error
// (again is reported as field+"_again").
func CheckNewPIN(field, pin, again string) error {
	if !ValidPIN(pin) {
		return Invalid(field, "密码须为6位数字", "the PIN must be 6 digits")
	}
	if pin != again {
		return Invalid(field+"_again", "两次输入的新密码不一样", "the two new PINs are not the same")
	}
	if WeakPIN(pin) {
		return Invalid(field, "密码太简单（如000000、123456），请换一个", "the PIN is too simple (like 000000 or 123456): choose another")
	}
	return nil
}

// plural picks an English noun by its count: one for exactly 1, other
// for the rest ("1 try", "2 tries"; issue 18 item 13).
func plural(n int, one, other string) string {
	if n == 1 {
		return one
	}
	return other
}

// ErrWrongPIN is the answer to a wrong old PIN; left is how many tries
// remain before the lock.
func ErrWrongPIN(left int) *Error {
	return Invalid("old_pin", "原密码不正确，还可再试%d次", "the current PIN is wrong: %d "+plural(left, "try", "tries")+" left", left)
}

// ErrPINLocked is the answer while the PIN may not be changed after too
// many wrong tries; it names the minutes left, rounded up.
func ErrPINLocked(until, now time.Time) *Error {
	mins := max(1, int((until.Sub(now)+time.Minute-1)/time.Minute))
	return Errorf(ELOCKED, "原密码错误次数过多，请%d分钟后再试；忘记密码请找社工重新激活",
		"too many wrong PINs: try again in %d "+plural(mins, "minute", "minutes")+"; if you forgot it, ask your worker to activate the app again", mins)
}

// ErrWrongAppPIN is the answer to a wrong PIN when the app is unlocked
// (issue 18 §3); wrong tries count toward the same lock as a PIN change.
func ErrWrongAppPIN(left int) *Error {
	return Invalid("pin", "密码不正确，还可再试%d次", "the PIN is wrong: %d "+plural(left, "try", "tries")+" left", left)
}

// ErrAppPINLocked is the answer while the app may not be unlocked after
// too many wrong PINs.
func ErrAppPINLocked(until, now time.Time) *Error {
	mins := max(1, int((until.Sub(now)+time.Minute-1)/time.Minute))
	return Errorf(ELOCKED, "密码错误次数过多，请%d分钟后再试；忘记密码请找社工重新激活",
		"too many wrong PINs: try again in %d "+plural(mins, "minute", "minutes")+"; if you forgot it, ask your worker to activate the app again", mins)
}
