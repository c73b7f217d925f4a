module github.com/jwtgate/jwtgate/adapters/connect

go 1.26.0

require (
	connectrpc.com/connect v1.21.1
	github.com/golang-jwt/jwt/v5 v5.3.1
	github.com/jwtgate/jwtgate v0.0.0
	google.golang.org/protobuf v1.36.12
)

replace github.com/jwtgate/jwtgate => ../..
