package redisstore

import (
	"testing"
	"time"
)

// TestKeySlot: Redis Cluster's key slot (CRC16 XMODEM mod 16384), with the
// CRC's check value and slots Redis itself reports (CLUSTER KEYSLOT).
func TestKeySlot(t *testing.T) {
	for _, tc := range []struct {
		key  string
		slot uint16
	}{
		{"123456789", 0x31C3 % slots}, // the CRC16/XMODEM check value
		{"", 0},
		{"foo", 12182},
		{"bar", 5061},
		{"hello", 866},
	} {
		if got := keySlot(tc.key); got != tc.slot {
			t.Errorf("keySlot(%q) = %d, want %d", tc.key, got, tc.slot)
		}
	}
	tags := slotTags()
	for slot, tag := range tags {
		if tag == "" || keySlot(tag) != uint16(slot) {
			t.Fatalf("slot %d: tag %q is in slot %d", slot, tag, keySlot(tag))
		}
	}
}

// TestLiveness: trusted only after a proof, and only within the bound of
// the time the proving round was sent; an older round never moves the
// proof back.
func TestLiveness(t *testing.T) {
	l := newLiveness(time.Hour)
	if l.trusted() {
		t.Fatal("trusted before any proof")
	}
	sent := l.now()
	l.proved(sent)
	if !l.trusted() {
		t.Fatal("not trusted right after a proof")
	}
	l.proved(sent - 10)
	if l.last.Load() != sent {
		t.Fatal("an older round moved the proof back")
	}
	l.proved(l.now() - int64(2*time.Hour))
	if l.last.Load() != sent {
		t.Fatal("an older round moved the proof back")
	}
	stale := newLiveness(time.Millisecond)
	stale.proved(stale.now())
	time.Sleep(5 * time.Millisecond) // longer than the bound, on the monotonic clock
	if stale.trusted() {
		t.Fatal("trusted past the bound")
	}
}
