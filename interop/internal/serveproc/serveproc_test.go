package serveproc

import (
	"strings"
	"testing"
)

func TestLogValue(t *testing.T) {
	line := `time=2026-12-03T14:40:28.183Z level=INFO msg=listening addr=127.0.0.1:4321 issuer="http://127.0.0.1:4321" note="a \"quoted\" word" xaddr=no` + "\n"
	for _, c := range []struct {
		key, want string
		ok        bool
	}{
		{"msg", "listening", true},
		{"addr", "127.0.0.1:4321", true}, // not xaddr
		{"issuer", "http://127.0.0.1:4321", true},
		{"note", `a "quoted" word`, true},
		{"xaddr", "no", true},
		{"password", "", false},
		{"ddr", "", false}, // only whole keys
	} {
		got, ok := LogValue(line, c.key)
		if got != c.want || ok != c.ok {
			t.Errorf("LogValue(%q) = %q, %v; want %q, %v", c.key, got, ok, c.want, c.ok)
		}
	}
	if v, ok := LogValue(`msg="unterminated`, "msg"); ok || v != "" {
		t.Errorf("an unterminated quote: %q, %v", v, ok)
	}
}

func TestField(t *testing.T) {
	out := "client_id: jc_ABC\nclient_secret: jcs_xyz\n  scopes: read write\n"
	for name, want := range map[string]string{"client_id": "jc_ABC", "client_secret": "jcs_xyz", "scopes": "read write", "audiences": "", "client": ""} {
		if got := Field(out, name); got != want {
			t.Errorf("Field(%q) = %q, want %q", name, got, want)
		}
	}
}

// FuzzLogValue: any line and key, never a panic or a hang; a value found
// follows "key=" in the line, and nothing found is an empty value.
func FuzzLogValue(f *testing.F) {
	f.Add(`time=x level=INFO msg=listening addr=127.0.0.1:1 issuer="http://a b"`, "addr")
	f.Add(`msg="unterminated`, "msg")
	f.Add(`a=1 a=2 ba=3`, "a")
	f.Add(``, ``)
	f.Fuzz(func(t *testing.T, line, key string) {
		v, ok := LogValue(line, key)
		if !ok && v != "" {
			t.Fatalf("not found, yet %q", v)
		}
		if ok && !strings.Contains(line, key+"=") {
			t.Fatalf("found %q for %q in a line without %q", v, key, key+"=")
		}
	})
}
