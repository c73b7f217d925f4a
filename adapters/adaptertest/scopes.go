package adaptertest

import "github.com/jwtgate/jwtgate"

// scopeScenarios are the scenarios of RouteOptions.Scopes.
func scopeScenarios() []Scenario {
	h := jwtgate.Location(jwtgate.InHeader{})
	with := func(claims map[string]any) func(e *Env) Request {
		return func(e *Env) Request {
			return Request{Authorization: bearer(e.Access(nil, "alice", jwtgate.WithClaims(claims)))}
		}
	}
	read := jwtgate.RouteOptions{Scopes: []string{"read"}}
	readWrite := jwtgate.RouteOptions{Scopes: []string{"read", "write"}}
	return []Scenario{
		{Name: "scope", Where: h, Route: read, Request: with(map[string]any{"scope": "write read"})},
		{Name: "scope-all", Where: h, Route: readWrite, Request: with(map[string]any{"scope": "write read admin"})},
		{Name: "scope-missing", Where: h, Route: readWrite, Request: with(map[string]any{"scope": "read"})},
		{Name: "scope-none", Where: h, Route: read, Request: with(nil)},
		{Name: "scp-array", Where: h, Route: readWrite, Request: with(map[string]any{"scp": []string{"write", "read"}})},
		{Name: "scp-string-missing", Where: h, Route: readWrite, Request: with(map[string]any{"scp": "write"})},
		{Name: "scope-not-a-string", Where: h, Route: read, Request: with(map[string]any{"scope": 7})},
		{Name: "scope-realm", Where: h, Route: jwtgate.RouteOptions{Scopes: []string{"admin"}, Realm: "admin"}, Request: with(map[string]any{"scope": "read"})},
		{Name: "scope-optional", Where: h, Route: jwtgate.RouteOptions{Optional: true, IgnoreInvalid: true, Scopes: []string{"admin"}},
			Request: with(map[string]any{"scope": "read"})},
		{Name: "scope-optional-no-token", Route: jwtgate.RouteOptions{Optional: true, Scopes: []string{"admin"}},
			Request: func(e *Env) Request { return Request{} }},
	}
}
