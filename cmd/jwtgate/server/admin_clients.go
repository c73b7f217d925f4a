package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate"
)

// The admin API's OAuth clients, when the service has a client registry
// in its database (Config.Clients is a *SQLClients):
//
//	GET    /admin/clients?after=&limit=         clients, by name, paged
//	POST   /admin/clients                       add; answers its secret, once
//	GET    /admin/clients/{client}              one client (by client_id or name)
//	PATCH  /admin/clients/{client}              change some settings
//	POST   /admin/clients/{client}/rotate-secret  new secret {"grace"}; answers it, once
//	DELETE /admin/clients/{client}              delete (ends its tokens)
//
// No answer holds a secret's hash; the secret itself is in the answers
// of add and rotate-secret only.
func (s *Server) adminClientRoutes(m *http.ServeMux, read, change func(http.HandlerFunc) http.Handler) {
	m.Handle("GET /admin/clients", read(s.adminListClients))
	m.Handle("POST /admin/clients", change(s.adminAddClient))
	m.Handle("GET /admin/clients/{client}", read(s.adminGetClient))
	m.Handle("PATCH /admin/clients/{client}", change(s.adminUpdateClient))
	m.Handle("POST /admin/clients/{client}/rotate-secret", change(s.adminRotateClientSecret))
	m.Handle("DELETE /admin/clients/{client}", change(s.adminDeleteClient))
}

// clientJSON is a client as the admin API shows it: never a secret nor
// its hash.
type clientJSON struct {
	ClientID  string   `json:"client_id"`
	Name      string   `json:"name"`
	Scopes    []string `json:"scopes"`
	Audiences []string `json:"audiences"`
	// TTL is the lifetime of its access tokens in seconds, 0 for the
	// service's.
	TTL      int64 `json:"ttl"`
	Refresh  bool  `json:"refresh"`
	Disabled bool  `json:"disabled"`
	// AuthMethods are the token_endpoint_auth_methods it can use.
	AuthMethods []string        `json:"auth_methods"`
	JWKS        json.RawMessage `json:"jwks,omitempty"`
	JWKSURI     string          `json:"jwks_uri,omitempty"`
	// PreviousSecretUntil is when the secret replaced by a rotation
	// stops working, while it works.
	PreviousSecretUntil *time.Time `json:"previous_secret_until,omitempty"`
	Created             time.Time  `json:"created"`
}

func (s *Server) toClientJSON(c *Client) clientJSON {
	j := clientJSON{ClientID: c.ID, Name: c.Name, Scopes: nonNil(c.Scopes), Audiences: nonNil(c.Audiences),
		TTL: int64(c.TTL / time.Second), Refresh: c.Refresh, Disabled: c.Disabled, AuthMethods: []string{},
		JWKSURI: c.JWKSURI, Created: c.Created.UTC()}
	if c.SecretHash != "" {
		j.AuthMethods = append(j.AuthMethods, authBasic, authPost)
	}
	if c.JWKS != "" || c.JWKSURI != "" {
		j.AuthMethods = append(j.AuthMethods, authJWT)
	}
	if c.JWKS != "" && json.Valid([]byte(c.JWKS)) {
		j.JWKS = json.RawMessage(c.JWKS)
	}
	if c.OldSecretHash != "" && s.cfg.Clock().Before(c.OldSecretUntil) {
		j.PreviousSecretUntil = timePtr(c.OldSecretUntil)
	}
	return j
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// clientError answers a failed client lookup or change.
func (s *Server) clientError(w http.ResponseWriter, what string, err error) {
	switch {
	case errors.Is(err, ErrClientNotFound):
		writeError(w, http.StatusNotFound, "not_found", "no such client")
	case errors.Is(err, ErrClientExists):
		writeError(w, http.StatusConflict, "conflict", "a client of that name exists")
	case errors.Is(err, ErrBadClient):
		writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
	default:
		s.storeFailure(w, what, err)
	}
}

// pathClient reads the {client} of the path: a client_id or a name.
func pathClient(w http.ResponseWriter, r *http.Request) (string, bool) {
	key := r.PathValue("client")
	if key == "" || textParam("the client", key, maxClientNameLen) != nil {
		writeError(w, http.StatusBadRequest, "invalid_request",
			"the client: a client_id or a name of at most 256 bytes of UTF-8 without control characters")
		return "", false
	}
	return key, true
}

// forgetClient drops a changed client from this instance's cache, so
// that its token endpoint sees the change at once (the other instances
// see it within clientCacheTTL).
func (s *Server) forgetClient(id string) {
	if s.clients != nil {
		s.clients.forget(id)
	}
}

func (s *Server) adminListClients(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, ok := pageLimit(q, maxClientsPage)
	if !ok {
		writeError(w, http.StatusBadRequest, "invalid_request", "limit: want 1 to "+strconv.Itoa(maxClientsPage))
		return
	}
	after := q.Get("after")
	if err := textParam("after", after, maxClientNameLen); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	list, err := s.accounts.Clients.Page(ctx, after, limit)
	if err != nil {
		s.log.Error("list clients", "err", err)
		unavailable(w, "the client registry cannot answer")
		return
	}
	out := map[string]any{"clients": mapSlice(list, s.toClientJSON)}
	if len(list) == limit {
		out["next"] = list[len(list)-1].Name
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) adminGetClient(w http.ResponseWriter, r *http.Request) {
	key, ok := pathClient(w, r)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	c, err := s.accounts.Clients.Find(ctx, key)
	if err != nil {
		if !errors.Is(err, ErrClientNotFound) {
			s.log.Error("get client", "err", err)
			unavailable(w, "the client registry cannot answer")
			return
		}
		s.clientError(w, "get client", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"client": s.toClientJSON(c)})
}

// jwksValue reads the jwks member of a body: a JWK Set object, stored as
// sent; null or absent is "".
func jwksValue(raw json.RawMessage) (string, error) {
	v := strings.TrimSpace(string(raw))
	if v == "" || v == "null" {
		return "", nil
	}
	if !strings.HasPrefix(v, "{") {
		return "", errors.New("jwks: want a JWK Set (a JSON object) or null")
	}
	return v, nil
}

// ttlValue reads a token lifetime in whole seconds.
func ttlValue(n int64) (time.Duration, error) {
	if n < 0 || n > int64(maxClientTTL/time.Second) {
		return 0, errors.New("ttl: want 0 (the service's) to 86400 seconds")
	}
	return time.Duration(n) * time.Second, nil
}

// newClient is the body of POST /admin/clients.
type newClient struct {
	Name      string          `json:"name"`
	Scopes    []string        `json:"scopes"`
	Audiences []string        `json:"audiences"`
	TTL       int64           `json:"ttl"`
	Refresh   bool            `json:"refresh"`
	JWKS      json.RawMessage `json:"jwks"`
	JWKSURI   string          `json:"jwks_uri"`
}

// client returns the client b describes.
func (b newClient) client() (*Client, error) {
	jwks, err := jwksValue(b.JWKS)
	if err != nil {
		return nil, err
	}
	ttl, err := ttlValue(b.TTL)
	if err != nil {
		return nil, err
	}
	return &Client{Name: b.Name, Scopes: b.Scopes, Audiences: b.Audiences, TTL: ttl, Refresh: b.Refresh,
		JWKS: jwks, JWKSURI: b.JWKSURI}, nil
}

func (s *Server) adminAddClient(w http.ResponseWriter, r *http.Request) {
	t, _ := jwtgate.TokenFrom(r.Context())
	var body newClient
	if !readJSON(w, r, &body) {
		return
	}
	c, err := body.client()
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	c.Created = s.cfg.Clock()
	ctx, cancel := context.WithTimeout(r.Context(), storeWriteTimeout)
	defer cancel()
	secret, err := s.accounts.AddClient(ctx, s.actor(r, t.Identity), c)
	if err != nil {
		s.clientError(w, "add client", err)
		return
	}
	s.forgetClient(c.ID)
	out := map[string]any{"client": s.toClientJSON(c)}
	if secret != "" {
		out["client_secret"] = secret
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, out)
}

// clientChangeBody is the body of PATCH /admin/clients/{client}: the members
// given are changed.
type clientChangeBody struct {
	Name      *string          `json:"name"`
	Scopes    *[]string        `json:"scopes"`
	Audiences *[]string        `json:"audiences"`
	TTL       *int64           `json:"ttl"`
	Refresh   *bool            `json:"refresh"`
	Disabled  *bool            `json:"disabled"`
	JWKS      *json.RawMessage `json:"jwks"`
	JWKSURI   *string          `json:"jwks_uri"`
}

// update returns the change b asks for.
func (b clientChangeBody) update() (ClientUpdate, error) {
	u := ClientUpdate{Name: b.Name, Scopes: b.Scopes, Audiences: b.Audiences, Refresh: b.Refresh,
		Disabled: b.Disabled, JWKSURI: b.JWKSURI}
	if b.TTL != nil {
		ttl, err := ttlValue(*b.TTL)
		if err != nil {
			return u, err
		}
		u.TTL = &ttl
	}
	if b.JWKS != nil {
		jwks, err := jwksValue(*b.JWKS)
		if err != nil {
			return u, err
		}
		u.JWKS = &jwks
	}
	return u, nil
}

func (s *Server) adminUpdateClient(w http.ResponseWriter, r *http.Request) {
	t, _ := jwtgate.TokenFrom(r.Context())
	key, ok := pathClient(w, r)
	if !ok {
		return
	}
	var body clientChangeBody
	if !readJSON(w, r, &body) {
		return
	}
	u, err := body.update()
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), storeWriteTimeout)
	defer cancel()
	c, changed, err := s.accounts.UpdateClient(ctx, s.actor(r, t.Identity), key, u)
	if c != nil {
		s.forgetClient(c.ID)
	}
	if err != nil {
		s.clientError(w, "update client", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"client": s.toClientJSON(c), "changed": nonNil(changed)})
}

// secretRotation is the body of POST /admin/clients/{client}/rotate-secret.
type secretRotation struct {
	// Grace is how long the current secret keeps working, in seconds:
	// an hour when absent.
	Grace *int64 `json:"grace"`
}

func (s *Server) adminRotateClientSecret(w http.ResponseWriter, r *http.Request) {
	t, _ := jwtgate.TokenFrom(r.Context())
	key, ok := pathClient(w, r)
	if !ok {
		return
	}
	var body secretRotation
	if r.ContentLength != 0 && !readJSON(w, r, &body) {
		return
	}
	grace := time.Hour
	if body.Grace != nil {
		if *body.Grace < 0 || *body.Grace > int64(MaxSecretGrace/time.Second) {
			writeError(w, http.StatusBadRequest, "invalid_request", "grace: want 0 to "+strconv.FormatInt(int64(MaxSecretGrace/time.Second), 10)+" seconds")
			return
		}
		grace = time.Duration(*body.Grace) * time.Second
	}
	ctx, cancel := context.WithTimeout(r.Context(), storeWriteTimeout)
	defer cancel()
	c, secret, err := s.accounts.RotateClientSecret(ctx, s.actor(r, t.Identity), key, grace)
	if err != nil {
		s.clientError(w, "rotate client secret", err)
		return
	}
	s.forgetClient(c.ID)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"client": s.toClientJSON(c), "client_secret": secret})
}

func (s *Server) adminDeleteClient(w http.ResponseWriter, r *http.Request) {
	t, _ := jwtgate.TokenFrom(r.Context())
	key, ok := pathClient(w, r)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), storeWriteTimeout)
	defer cancel()
	c, err := s.accounts.DeleteClient(ctx, s.actor(r, t.Identity), key)
	if errors.Is(err, ErrSessionsNotEnded) {
		s.log.Error("delete client", "err", err)
		unavailable(w, "the client's tokens could not be revoked, so it was not deleted (it is disabled): make the same request again")
		return
	}
	if err != nil {
		s.clientError(w, "delete client", err)
		return
	}
	s.forgetClient(c.ID)
	writeJSON(w, http.StatusOK, map[string]any{"deleted": c.ID})
}
