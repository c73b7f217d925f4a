module github.com/jwtgate/jwtgate/examples

go 1.26.0

require (
	connectrpc.com/connect v1.21.1
	github.com/coder/websocket v1.8.15
	github.com/jwtgate/jwtgate v0.0.0
	github.com/jwtgate/jwtgate/adapters/connect v0.0.0
	github.com/jwtgate/jwtgate/adapters/grpc v0.0.0
	google.golang.org/grpc v1.85.0
	google.golang.org/protobuf v1.36.12
)

require (
	golang.org/x/net v0.60.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
	golang.org/x/text v0.42.0 // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20260817212433-ac3dfec99bb1 // indirect
)

replace (
	github.com/jwtgate/jwtgate => ..
	github.com/jwtgate/jwtgate/adapters/connect => ../adapters/connect
	github.com/jwtgate/jwtgate/adapters/grpc => ../adapters/grpc
)
