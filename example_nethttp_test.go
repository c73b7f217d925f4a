package jwtgate_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/jwt"
)

// README begin
// newApp serves POST /login, which gives an access token to a user whose
// password checks, and GET /hello, which only such a token opens.
func newApp(secret []byte, checkPassword func(user, password string) bool) (http.Handler, error) {
	key, err := jwt.NewHMACKey(secret) // 32 random bytes or more
	if err != nil {
		return nil, err
	}
	gate, err := jwtgate.New(jwtgate.Config{SigningKey: key})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		user := r.PostFormValue("username")
		if !checkPassword(user, r.PostFormValue("password")) {
			http.Error(w, "wrong username or password", http.StatusUnauthorized)
			return
		}
		token, err := gate.CreateAccessToken(r.Context(), user)
		if err != nil {
			http.Error(w, "cannot issue a token", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"access_token": token})
	})
	mux.Handle("GET /hello", gate.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s\n", gate.Identity(r.Context()))
	})))
	return mux, nil
}

// README end

// A net/http application: a login handler that issues access tokens and
// a route that only they open (the example at the top of the README).
func Example_netHTTP() {
	app, err := newApp([]byte("a secret of at least thirty-two bytes!"), func(user, password string) bool {
		return user == "alice" && password == "correct horse battery staple"
	})
	if err != nil {
		panic(err)
	}
	login := func(password string) (int, string) {
		form := url.Values{"username": {"alice"}, "password": {password}}
		r := httptest.NewRequest("POST", "/login", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		app.ServeHTTP(w, r)
		var body struct {
			AccessToken string `json:"access_token"`
		}
		json.NewDecoder(w.Body).Decode(&body)
		return w.Code, body.AccessToken
	}
	hello := func(token string) {
		r := httptest.NewRequest("GET", "/hello", nil)
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		w := httptest.NewRecorder()
		app.ServeHTTP(w, r)
		body, _ := io.ReadAll(w.Body)
		if w.Code != http.StatusOK {
			body = []byte(w.Header().Get("WWW-Authenticate") + "\n")
		}
		fmt.Printf("GET /hello: %d %s", w.Code, body)
	}

	code, _ := login("guess")
	fmt.Println("wrong password:", code)
	code, token := login("correct horse battery staple")
	fmt.Println("right password:", code, token != "")
	hello(token)
	hello("")
	hello(token + "x")
	// Output:
	// wrong password: 401
	// right password: 200 true
	// GET /hello: 200 hello alice
	// GET /hello: 401 Bearer realm="jwtgate"
	// GET /hello: 401 Bearer realm="jwtgate", error="invalid_token", error_description="Signature verification failed"
}
