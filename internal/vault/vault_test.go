package vault

import (
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
)

func derive(id string) ([]byte, error) {
	k := sha256.Sum256([]byte("test " + id))
	return k[:], nil
}

func TestSealOpenRotate(t *testing.T) {
	k, err := NewDerived("k1", derive, []byte("index"))
	if err != nil {
		t.Fatal(err)
	}
	s1, _ := k.Seal("46020319850312100X", "person.id:1")
	if KeyID(s1) != "k1" {
		t.Fatalf("sealed under %q", KeyID(s1))
	}
	if err := k.SetCurrent("k2"); err != nil {
		t.Fatal(err)
	}
	s2, _ := k.Seal("46020319850312100X", "person.id:1")
	tests := []struct {
		name, sealed, context, want string
		err                         string
	}{
		{"old key still opens", s1, "person.id:1", "46020319850312100X", ""},
		{"new key opens", s2, "person.id:1", "46020319850312100X", ""},
		{"empty stays empty", "", "x", "", ""},
		{"wrong context", s2, "person.id:2", "", "does not decrypt"},
		{"altered", s2[:len(s2)-2] + map[bool]string{true: "AA", false: "BB"}[!strings.HasSuffix(s2, "AA")], "person.id:1", "", "does not decrypt"},
		{"no key id", "garbage", "x", "", "does not decrypt"},
		{"unknown key id", "x9:AAAA", "x", "", "unknown key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := k.Open(tt.sealed, tt.context)
			if tt.err == "" && (err != nil || got != tt.want) {
				t.Fatalf("Open = %q, %v; want %q", got, err, tt.want)
			}
			if tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("Open error %v, want %q", err, tt.err)
			}
		})
	}
	if _, err := k.Open(s2[:len(s2)-2]+"zz", "person.id:1"); !errors.Is(err, ErrUndecryptable) && err == nil {
		t.Fatal("altered value opened")
	}
	k2, _ := NewDerived("k5", derive, []byte("index"))
	if k.Index("id", "a") != k2.Index("id", "a") || k.Index("id", "a") == k.Index("phone", "a") {
		t.Fatal("blind index not deterministic or not separated by kind")
	}
}

func TestKeyIDs(t *testing.T) {
	for _, tt := range []struct {
		id, next string
		ok       bool
	}{{"k1", "k2", true}, {"k9", "k10", true}, {"k0", "", false}, {"k01", "", false}, {"x1", "", false}, {"k", "", false}} {
		t.Run(tt.id, func(t *testing.T) {
			next, err := NextID(tt.id)
			if (err == nil) != tt.ok || next != tt.next {
				t.Fatalf("NextID(%q) = %q, %v", tt.id, next, err)
			}
		})
	}
}

func TestSourceRefresh(t *testing.T) {
	k, _ := NewDerived("k1", derive, nil)
	cur := "k3"
	k.SetSource(func() (string, error) { return cur, nil }, 0)
	s, _ := k.Seal("v", "c")
	if KeyID(s) != "k3" {
		t.Fatalf("sealed under %q after the source said k3", KeyID(s))
	}
	k.SetSource(func() (string, error) { return "", errors.New("db down") }, 0)
	s, _ = k.Seal("v", "c")
	if KeyID(s) != "k3" {
		t.Fatalf("a failing source changed the key to %q", KeyID(s))
	}
}
