module github.com/jwtgate/jwtgate/examples

go 1.26.0

require (
	github.com/coder/websocket v1.8.15
	github.com/jwtgate/jwtgate v0.0.0
)

replace github.com/jwtgate/jwtgate => ..
