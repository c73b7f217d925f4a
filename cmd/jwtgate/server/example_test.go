package server_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/jwtgate/jwtgate/cmd/jwtgate/server"
	"github.com/jwtgate/jwtgate/jwt"
)

// The rotation "jwtgate keys rotate" and the admin API make from the
// service's settings.
func ExampleRotationPlan() {
	plan := server.RotationPlan{JWKSMaxAge: 5 * time.Minute, KeysReload: 30 * time.Second,
		AccessTTL: 15 * time.Minute, RefreshTTL: 720 * time.Hour}
	rot := plan.Rotation("") // the current signer's algorithm
	fmt.Println("signs after", rot.ActivateAfter, "- old keys verify", rot.RetireAfter, "more")
	plan.Now = true // an emergency: a leaked key
	rot = plan.Rotation(jwt.EdDSA)
	fmt.Println(rot.Alg, "signs after", rot.ActivateAfter, "- old keys verify", rot.RetireAfter, "more")
	// Output:
	// signs after 5m30s - old keys verify 720h0m0s more
	// EdDSA signs after 0s - old keys verify 720h0m30s more
}

// Changes to users through Accounts, as the admin API and the users
// commands make them: each is in the audit log.
func ExampleAccounts() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "jwtgate-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	st, err := server.Open(ctx, server.StoreConfig{DataDir: dir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		panic(err)
	}
	defer st.Close()
	st.Audit.SetLogger(slog.New(slog.DiscardHandler))

	accounts := st.Accounts(720 * time.Hour) // the service's refresh TTL
	if err := accounts.AddUser(ctx, server.CLIActor, "bob", "a long password", false); err != nil {
		panic(err)
	}
	if err := accounts.SetDisabled(ctx, server.CLIActor, "bob", true); err != nil {
		panic(err) // disabled, and every session of bob ended
	}
	events, err := st.Audit.Events(ctx, server.AuditFilter{User: "bob"})
	if err != nil {
		panic(err)
	}
	for _, e := range events {
		fmt.Println(e.Actor, e.Type, e.Subject, e.Outcome)
	}
	// Output:
	// cli admin.user.disable bob success
	// cli admin.user.add bob success
}
