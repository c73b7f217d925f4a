// Package demo holds what the example programs share and what is not the
// point of any of them: serving HTTP with timeouts, body limits, request
// logs and a graceful shutdown, writing JSON, and reading the secret.
//
// Each example's main.go shows the jwtgate part; this package keeps the
// plumbing in one place.
package demo

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// MinSecretBytes is the shortest HS256 secret the examples accept: the
// hash's output size (RFC 7518 section 3.2).
const MinSecretBytes = 32

// Secret returns the HMAC secret held in the environment variable env. If
// the variable is unset and required is false, it returns a random secret
// (tokens then die with the process) and says so in the log. A secret
// shorter than MinSecretBytes is an error.
func Secret(log *slog.Logger, env string, required bool) ([]byte, error) {
	v, ok := os.LookupEnv(env)
	if !ok || v == "" {
		if required {
			return nil, fmt.Errorf("%s is not set: give it a random secret of at least %d bytes, e.g. export %s=$(openssl rand -hex 32)", env, MinSecretBytes, env)
		}
		b := make([]byte, MinSecretBytes)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		log.Warn("no secret in the environment: using a random one; tokens will not survive a restart", "env", env)
		return b, nil
	}
	if len(v) < MinSecretBytes {
		return nil, fmt.Errorf("%s is %d bytes long: an HS256 secret needs at least %d", env, len(v), MinSecretBytes)
	}
	return []byte(v), nil
}

// NewLogger returns the examples' logger: text lines on standard error.
func NewLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, nil))
}

// Server describes an example's HTTP server.
type Server struct {
	Addr    string
	Handler http.Handler
	Logger  *slog.Logger

	// MaxBodyBytes bounds every request body (default 64 KiB).
	MaxBodyBytes int64

	// LongLived leaves out the read and write timeouts, which would cut
	// WebSocket connections; the header timeout stays.
	LongLived bool

	// H2C serves HTTP/2 without TLS (prior knowledge) besides HTTP/1.1,
	// for gRPC and Connect clients on a local demonstration.
	H2C bool
}

// SignalContext returns a context cancelled by SIGINT or SIGTERM.
func SignalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// Run listens on s.Addr, logs the address it got (msg=listening addr=...),
// and serves until ctx is done; then it stops accepting connections and
// waits for the requests in progress to finish.
func Run(ctx context.Context, s Server) error {
	log := s.Logger
	if log == nil {
		log = NewLogger()
	}
	limit := s.MaxBodyBytes
	if limit <= 0 {
		limit = 64 << 10
	}
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           withBasics(s.Handler, log, limit),
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if s.H2C {
		srv.Protocols = new(http.Protocols)
		srv.Protocols.SetHTTP1(true)
		srv.Protocols.SetUnencryptedHTTP2(true)
	}
	if !s.LongLived {
		srv.ReadTimeout = 30 * time.Second
		srv.WriteTimeout = 30 * time.Second
	}
	log.Info("listening", "addr", ln.Addr().String())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// withBasics bounds request bodies, turns a panic into a 500 instead of a
// dropped connection, and logs each request: its method, path (never the
// query string, which may hold a token) and status.
func withBasics(next http.Handler, log *slog.Logger, limit int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(rec, r.Body, limit)
		}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.Error("panic", "method", r.Method, "path", r.URL.Path, "panic", v)
				if rec.status == 0 {
					WriteJSON(rec, http.StatusInternalServerError, map[string]string{"msg": "Internal Server Error"})
				}
			}
			log.Info("request", "method", r.Method, "path", r.URL.Path, "status", rec.status, "duration", time.Since(start))
		}()
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
	})
}

// statusRecorder remembers the status code. Unwrap lets
// http.ResponseController and WebSocket libraries reach the connection.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Flush sends what is buffered (streaming responses, such as Connect's
// server streams, need it).
func (s *statusRecorder) Flush() {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	_ = http.NewResponseController(s.ResponseWriter).Flush()
}

// WriteJSON writes v as a JSON response with status. Responses that carry
// tokens must not be cached, so every response says no-store.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// IsJSON reports whether a Content-Type is application/json or a +json
// type.
func IsJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}
