package server

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/jwtgate/jwtgate/internal/strictjson"
)

// FuzzReadManifest: keys.json, read back from the data directory, is
// refused with an error, or is one JSON object without duplicate members
// (whose last copy would silently win) whose entries name a key id and a
// local file; what is read writes back and reads again the same.
func FuzzReadManifest(f *testing.F) {
	for _, s := range []string{
		`{"keys":[{"kid":"k1","file":"keys/k1.pem","alg":"ES256","created":"2026-01-02T15:04:05Z"}]}`,
		`{"keys":[{"kid":"k1","file":"a.pem","created":"2026-01-02T15:04:05Z","activate_at":"2026-01-03T00:00:00+01:00","retire_at":null}]}`,
		`{"keys":[]}`, `{"keys":null}`, `null`, `[]`, ``, `{"keys":[{"kid":"k","file":"../x.pem"}]}`,
		`{"keys":[{"kid":"k","file":"/etc/x.pem"}]}`, `{"keys":[{"kid":"","file":"x"}]}`,
		`{"keys":[{"kid":"k","file":"x"}]} {"keys":[]}`, `{"keys":[{"kid":"k","file":"x"}]}]`,
		`{"keys":[{"kid":"k","file":"x"}],"keys":[{"kid":"j","file":"y"}]}`,
		`{"keys":[{"kid":"k","kid":"j","file":"x"}]}`, `{"keys":[{"kid":"k","file":"x","extra":1}]}`,
		`{"keys":[{"kid":"k","file":"x","created":"yesterday"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d := &DataDir{Path: t.TempDir()}
		write := func(b []byte) {
			if err := os.WriteFile(filepath.Join(d.Path, ManifestFile), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		write(data)
		m, ok, err := d.readManifest()
		if err != nil || !ok {
			if ok {
				t.Fatalf("%q: ok with error %v", data, err)
			}
			if err == nil {
				t.Fatalf("%q: a manifest file, neither read nor refused", data)
			}
			return
		}
		if err := strictjson.ScanObject(string(data), nil); err != nil {
			t.Fatalf("accepted %q: %v", data, err)
		}
		for _, k := range m.Keys {
			if k.KID == "" || !filepath.IsLocal(k.File) {
				t.Fatalf("accepted %q: entry %+v", data, k)
			}
		}
		out, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		write(out)
		again, ok, err := d.readManifest()
		if err != nil || !ok {
			t.Fatalf("%q, written back as %q, is refused: %v", data, out, err)
		}
		if back, _ := json.Marshal(again); !bytes.Equal(back, out) {
			t.Fatalf("%q read back as %q, then %q", data, out, back)
		}
	})
}
