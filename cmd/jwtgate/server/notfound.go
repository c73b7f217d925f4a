package server

import (
	"net/http"
	"strings"
)

// probeMethods are the methods tried to tell a 405 from a 404.
var probeMethods = [...]string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// noEndpoint answers a request that no endpoint takes, in JSON like every
// other error: 405 with an Allow header when its path is an endpoint's
// under other methods, else 404. It is the mux's catch-all "/", so the
// endpoints' own requests never pass here.
func (s *Server) noEndpoint(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range probeMethods {
		probe := r.WithContext(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "/" && pattern != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) == 0 {
		writeError(w, http.StatusNotFound, "not_found", "no endpoint at this path")
		return
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "this endpoint takes "+strings.Join(allow, ", "))
}
