package strictjson

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		wantErr string // a part of the message; "" for success
	}{
		{`{"kty":"oct","k":"AQ","key_ops":["sign"],"n":1.5,"b":true,"z":null}`, ""},
		{` [ ] `, ""},
		{`"x"`, ""},
		{`{"a":1,"a":2}`, `duplicate member "a"`},
		{`{"a":1,"\u0061":2}`, `duplicate member "a"`},
		{`{"x":{"a":1,"a":2}}`, `duplicate member "a"`},
		{`{"a":"\ud800"}`, "lone surrogate"},
		{"{\"a\":\"\xff\"}", "invalid UTF-8"},
		{`{} {}`, "data after the value"},
		{``, "unexpected end of data"},
		{strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1), "nesting deeper than 32"},
		{strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth), ""},
	}
	for _, tt := range tests {
		v, err := Parse([]byte(tt.in))
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("Parse(%q): %v", tt.in, err)
			}
			continue
		}
		if err == nil || !errors.Is(err, ErrSyntax) || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("Parse(%q) = %v, %v; want an ErrSyntax saying %q", tt.in, v, err, tt.wantErr)
		}
	}
	v, err := Parse([]byte(`{"kty":"oct","ops":["a","b"],"n":-0.5e3,"t":true,"f":false,"z":null}`))
	if err != nil {
		t.Fatal(err)
	}
	if kty := v.Obj.Get("kty"); kty == nil || kty.Kind != KindString || kty.Str != "oct" {
		t.Errorf("kty = %+v", kty)
	}
	if ops := v.Obj.Get("ops"); ops == nil || len(ops.Arr) != 2 || ops.Arr[1].Str != "b" {
		t.Errorf("ops = %+v", ops)
	}
	if n := v.Obj.Get("n"); n == nil || n.Kind != KindNumber || n.Str != "-0.5e3" {
		t.Errorf("n = %+v", n)
	}
	if b := v.Obj.Get("t"); b == nil || !b.IsBool() || b.Str != "true" {
		t.Errorf("t = %+v", b)
	}
	if z := v.Obj.Get("z"); z == nil || z.Kind != KindNull || z.IsBool() {
		t.Errorf("z = %+v", z)
	}
	if v.Obj.Get("missing") != nil {
		t.Error("Get found a missing member")
	}
}

func TestAppendString(t *testing.T) {
	for _, in := range []string{"", "plain", `q"b\`, "\n\r\t\x00\x1f", "<a&b>", "é \u2028 \u2029 😀", "bad \xff utf8"} {
		want, _ := json.Marshal(in)
		if got := string(AppendHTMLSafeString(nil, in)); got != string(want) {
			t.Errorf("AppendHTMLSafeString(%q) = %s, want %s", in, got, want)
		}
		var back string
		if err := json.Unmarshal(AppendString(nil, in), &back); err != nil || back != strings.ToValidUTF8(in, "\ufffd") {
			t.Errorf("AppendString(%q) decodes to %q, %v", in, back, err)
		}
	}
	// AppendString escapes only what JSON requires.
	if got, want := string(AppendString(nil, "<a&b>\u2028\u2029\xff")), "\"<a&b>\u2028\u2029\\ufffd\""; got != want {
		t.Errorf("AppendString = %q, want %q", got, want)
	}
}
