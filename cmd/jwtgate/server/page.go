package server

import (
	_ "embed"
	"net/http"
)

// The sign-in page served at GET /: plain HTML with its script in
// /app.js, so that the Content-Security-Policy needs no 'unsafe-inline'.
// It signs in with POST /login?cookies=1 and then uses the cookies with
// the CSRF header: GET /userinfo, POST /refresh, POST /logout.
var (
	//go:embed page.html
	pageHTML []byte
	//go:embed app.js
	appJS []byte
)

// pageCSP allows the page its own script and same-origin fetches only.
const pageCSP = "default-src 'none'; script-src 'self'; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func pageHeaders(w http.ResponseWriter, contentType string) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-cache")
}

func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	pageHeaders(w, "text/html; charset=utf-8")
	w.Write(pageHTML)
}

func (s *Server) script(w http.ResponseWriter, r *http.Request) {
	pageHeaders(w, "text/javascript; charset=utf-8")
	w.Write(appJS)
}
