package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"unicode/utf8"
)

// configKey is the flag that names the config file; it cannot be set from
// inside the file.
const configKey = "config"

// flagSources sets the flags of fs that were not given on the command line
// (call it after parsing) from, in this order of precedence:
//
//  1. the flag on the command line, which always wins;
//  2. its environment variable, vars[flag name] (such as JWTGATE_ADDR),
//     when that is set and not empty;
//  3. the config file, when file is not "" and has the flag's key;
//  4. the flag's built-in default, which --help shows.
//
// The config file is one JSON object whose keys are flag names, exactly
// as on the command line without the dashes, and whose values are JSON
// strings, numbers or booleans. A value is given to the flag as its text:
// a string as it is, a number as written in the file (so 30 is "30", and
// a duration still needs its unit), true or false as "true" or "false".
// For example:
//
//	{
//		"addr": "0.0.0.0:8443",
//		"data-dir": "/var/lib/jwtgate",
//		"access-ttl": "10m",
//		"login-burst": 5,
//		"secure-cookies": true
//	}
//
// The file is strict: at most 1 MiB of valid UTF-8, exactly one object and
// nothing after it, no key twice, no key that is not a flag of the command
// (nor "config" itself), and no null, array or object values. The form of
// the whole file is checked even when the command line sets every flag; a
// value is checked by its flag when it is used, as one from the
// environment is.
//
// flagSources reports an error on e's stderr, naming where the bad value
// came from, and returns false.
func flagSources(e *env, fs *flag.FlagSet, vars map[string]string, file string) bool {
	for name := range vars {
		if fs.Lookup(name) == nil {
			e.errorf("internal error: environment variable %s for an undefined flag %q", vars[name], name)
			return false
		}
	}
	var conf map[string]string
	if file != "" {
		var err error
		if conf, err = readConfig(fs, file); err != nil {
			e.errorf("config file %s: %v", file, err)
			return false
		}
	}
	return applySources(e, fs, vars, conf, file)
}

// storeSources is flagSources for the commands that only open the stores
// of serve (users, keys rotate): they read serve's config file, named by
// config or else JWTGATE_CONFIG. The whole file is checked against the
// flags of serve; only its store settings, the token lifetimes
// (refresh-ttl, access-ttl), jwks-max-age and keys-reload are used.
func storeSources(e *env, fs *flag.FlagSet, vars map[string]string, config string) bool {
	file := config
	if file == "" {
		file = os.Getenv("JWTGATE_CONFIG")
	}
	if file == "" {
		return flagSources(e, fs, vars, "")
	}
	all := flag.NewFlagSet("serve", flag.ContinueOnError)
	defineServeFlags(all)
	conf, err := readConfig(all, file)
	if err != nil {
		e.errorf("config file %s: %v", file, err)
		return false
	}
	// Only what says where the state is, the token lifetime the users
	// commands revoke for, and the settings a new key's activation delay
	// derives from: serve's "alg", say, is the algorithm of a first key,
	// not of a rotation.
	for k := range conf {
		switch k {
		case "data-dir", "database-url", "redis", "redis-prefix", "refresh-ttl", "min-password-length":
		case "redis-sentinel-master", "redis-bound", "redis-wait-replicas":
		case "jwks-max-age", "keys-reload", "access-ttl":
		default:
			delete(conf, k)
		}
	}
	return applySources(e, fs, vars, conf, file)
}

// applySources sets the flags of fs not given on the command line from
// their environment variables, else from conf (the values of the config
// file named file).
func applySources(e *env, fs *flag.FlagSet, vars map[string]string, conf map[string]string, file string) bool {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	ok := true
	// VisitAll goes in lexical order, so the first error is always the same.
	fs.VisitAll(func(f *flag.Flag) {
		if !ok || given[f.Name] {
			return
		}
		if v := vars[f.Name]; v != "" {
			if val := os.Getenv(v); val != "" {
				if err := setFlag(fs, f.Name, val); err != nil {
					e.errorf("%s=%q: %v", v, val, err)
					ok = false
				}
				return
			}
		}
		if val, found := conf[f.Name]; found {
			if err := setFlag(fs, f.Name, val); err != nil {
				e.errorf("config file %s: key %q: %v", file, f.Name, err)
				ok = false
			}
		}
	})
	return ok
}

// setFlag sets a flag, with an error that says which, as a bad flag on
// the command line does (FlagSet.Set alone says only "parse error").
func setFlag(fs *flag.FlagSet, name, val string) error {
	if err := fs.Set(name, val); err != nil {
		return fmt.Errorf("invalid value %q for flag -%s: %v", val, name, err)
	}
	return nil
}

// readConfig reads and checks a config file for the flags of fs, and
// returns its values as text by flag name. Its errors do not repeat the
// file name.
func readConfig(fs *flag.FlagSet, name string) (map[string]string, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("cannot open it: %v", pathErr(err))
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxInput+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read it: %v", pathErr(err))
	}
	if len(b) > maxInput {
		return nil, fmt.Errorf("larger than %d bytes (1 MiB)", maxInput)
	}
	return parseConfig(fs, b)
}

// pathErr drops the operation and file name that an *os.PathError repeats.
func pathErr(err error) error {
	if pe, ok := errors.AsType[*os.PathError](err); ok {
		return pe.Err
	}
	return err
}

// parseConfig parses the JSON object of a config file; see flagSources.
func parseConfig(fs *flag.FlagSet, b []byte) (map[string]string, error) {
	if !utf8.Valid(b) {
		return nil, errors.New("not valid UTF-8")
	}
	if bytes.HasPrefix(b, []byte("\ufeff")) {
		return nil, errors.New("starts with a byte order mark; save it as UTF-8 without one")
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, errors.New("empty; want one JSON object of flag names and values")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, jsonErr(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("want one JSON object of flag names and values")
	}
	conf := map[string]string{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, jsonErr(err)
		}
		key, ok := tok.(string)
		if !ok { // the decoder already rejects this; be safe
			return nil, errors.New("want one JSON object of flag names and values")
		}
		switch _, dup := conf[key]; {
		case dup:
			return nil, fmt.Errorf("key %q appears twice", shorten(key))
		case key == configKey:
			return nil, fmt.Errorf("key %q is not allowed in the config file", key)
		case fs.Lookup(key) == nil:
			return nil, fmt.Errorf("unknown key %q: not a flag of this command (see --help)", shorten(key))
		}
		tok, err = dec.Token()
		if err != nil {
			return nil, jsonErr(err)
		}
		switch v := tok.(type) {
		case string:
			conf[key] = v
		case json.Number:
			conf[key] = v.String()
		case bool:
			conf[key] = fmt.Sprint(v)
		case nil:
			return nil, fmt.Errorf("key %q: null is not a value; leave the key out for the default", key)
		default: // '[' or '{'
			return nil, fmt.Errorf("key %q: want a string, number or boolean, not an array or object", key)
		}
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, jsonErr(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON object")
	}
	return conf, nil
}

// jsonErr describes a JSON syntax error with its position.
func jsonErr(err error) error {
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		return fmt.Errorf("invalid JSON at byte %d: %v", se.Offset, se)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("invalid JSON: unexpected end of the file")
	}
	return fmt.Errorf("invalid JSON: %v", err)
}

// shorten cuts a long key for an error message.
func shorten(s string) string {
	const limit = 64
	if len(s) <= limit {
		return s
	}
	i := limit
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "..."
}
