package main

import (
	"flag"
	"io"
	"testing"
	"time"
)

// FuzzConfigFile: parseConfig never panics, and what it accepts names only
// flags of the command, with text values.
func FuzzConfigFile(f *testing.F) {
	for _, s := range []string{
		`{"addr": ":8080", "access-ttl": "10m", "login-burst": 5, "secure-cookies": true}`,
		`{"addr": "a", "addr": "b"}`,
		`{"config": "x"}`,
		`{"addr": null}`, `{"addr": [1]}`, `[]`, `{} {}`, `{"\u0061ddr": 1e3}`,
		"\xef\xbb\xbf{}", ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		fs.String("addr", "", "")
		fs.String("config", "", "")
		fs.Duration("access-ttl", time.Minute, "")
		fs.Int("login-burst", 10, "")
		fs.Bool("secure-cookies", false, "")
		conf, err := parseConfig(fs, data)
		if err != nil {
			return
		}
		for k := range conf {
			if fs.Lookup(k) == nil || k == configKey {
				t.Fatalf("accepted key %q", k)
			}
		}
	})
}
