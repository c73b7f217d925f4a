module github.com/jwtgate/jwtgate/adapters/echov5

go 1.26.0

require github.com/jwtgate/jwtgate v0.0.0

require github.com/labstack/echo/v5 v5.4.6

replace github.com/jwtgate/jwtgate => ../..
