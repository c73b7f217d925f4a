package main

import (
	"bytes"
	"encoding/json"
	"math/big"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/strictjson"
)

// unixSeconds is the form --now documents: Unix seconds, with an optional
// fraction.
var unixSeconds = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

// FuzzParseUnix: --now accepts exactly decimal seconds with an optional
// fraction, and reads them as math/big does, to the nanosecond (further
// digits are dropped).
func FuzzParseUnix(f *testing.F) {
	for _, s := range []string{"0", "1767225600", "1767225600.5", "1.000000001", "1.1234567891", "1.1234567890x",
		"5.", ".5", "+5", "-1", "1e9", "9223372036854775807", "9223372036854775808", "1.-5", "1.+5", "", " 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseUnix(s)
		if !unixSeconds.MatchString(s) {
			if err == nil {
				t.Fatalf("accepted %q as %v", s, got)
			}
			return
		}
		r, _ := new(big.Rat).SetString(s)
		ns := new(big.Int).Quo(new(big.Int).Mul(r.Num(), big.NewInt(1e9)), r.Denom())
		sec, nsec := new(big.Int).QuoRem(ns, big.NewInt(1e9), new(big.Int))
		if !sec.IsInt64() {
			if err == nil {
				t.Fatalf("accepted %q, beyond int64 seconds", s)
			}
			return
		}
		if err != nil {
			t.Fatalf("refused %q: %v", s, err)
		}
		if got.Unix() != sec.Int64() || int64(got.Nanosecond()) != nsec.Int64() {
			t.Fatalf("%q read as %d.%09d, want %v.%09d", s, got.Unix(), got.Nanosecond(), sec, nsec)
		}
	})
}

// FuzzParseDuration: a duration flag is plain seconds or a Go duration,
// never negative, read as strconv and time.ParseDuration read it; a
// lifetime also wants a unit. Every refusal names the flag.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"0", "30", "90s", "1h30m", "1.5h", "-1", "-1s", "-0", "+5", "15", "9223372036854775807",
		"4611686018", "4611686019", "2562047h47m16.854775807s", "2562047h48m", "1e3s", "", "s", "5 s", ".s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseDuration("--ttl", s)
		want, werr := time.ParseDuration(s)
		if n, nerr := strconv.ParseInt(s, 10, 64); nerr == nil {
			want, werr = time.Duration(n)*time.Second, nil
			if n < 0 || n > int64(1<<62)/int64(time.Second) {
				werr = strconv.ErrRange
			}
		} else if werr == nil && want < 0 {
			werr = strconv.ErrRange
		}
		switch {
		case (err == nil) != (werr == nil):
			t.Fatalf("%q: got %v, %v; want %v, %v", s, d, err, want, werr)
		case err != nil:
			if !strings.Contains(err.Error(), "--ttl") {
				t.Fatalf("%q: error %q does not name the flag", s, err)
			}
		case d != want:
			t.Fatalf("%q read as %v, want %v", s, d, want)
		}
		l, lerr := parseLifetime("--ttl", s)
		if _, perr := strconv.ParseUint(s, 10, 64); perr == nil {
			if lerr == nil {
				t.Fatalf("lifetime %q without a unit accepted", s)
			}
		} else if l != d || (lerr == nil) != (err == nil) {
			t.Fatalf("lifetime %q: %v, %v; duration %v, %v", s, l, lerr, d, err)
		}
	})
}

// FuzzBuildClaims: token sign --claims takes one JSON object by the rules
// tokens are verified with; what it signs is that object, member for
// member, with iat added unless present and exp added when asked.
func FuzzBuildClaims(f *testing.F) {
	for _, s := range []string{`{}`, `{"sub":"alice","iat":5}`, `{"n":1e400,"x":-0,"s":"<&>\u2028"}`,
		`{"a":{"b":[1,2,{"c":null}]}}`, `{"a":1,"a":2}`, `{"a":1}{}`, `null`, `[]`, "{\"a\":\"\xff\"}",
		`{"a":"\ud800"}`, ` {"exp":1} `, `{"a":1}x`} {
		f.Add([]byte(s), true)
	}
	now := time.Unix(1767225600, 0)
	f.Fuzz(func(t *testing.T, raw []byte, withExp bool) {
		out, err := buildClaims(raw, now, withExp, time.Hour)
		if serr := strictjson.ScanObject(string(raw), nil); (serr == nil) != (err == nil) {
			t.Fatalf("%q: built %v; the strict parser says %v", raw, err, serr)
		}
		if err != nil {
			return
		}
		if err := strictjson.ScanObject(string(out), nil); err != nil {
			t.Fatalf("%q built %q, which verification refuses: %v", raw, out, err)
		}
		in, got := decodeNumbers(t, raw), decodeNumbers(t, out)
		if _, ok := in["iat"]; !ok {
			in["iat"] = json.Number(strconv.FormatInt(now.Unix(), 10))
		}
		if withExp {
			in["exp"] = json.Number(strconv.FormatInt(now.Add(time.Hour).Unix(), 10))
		}
		if !reflect.DeepEqual(in, got) {
			t.Fatalf("%q built %q", raw, out)
		}
	})
}

func decodeNumbers(t *testing.T, b []byte) map[string]any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("%q: %v", b, err)
	}
	return m
}
