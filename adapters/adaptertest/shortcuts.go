package adaptertest

import (
	"reflect"

	"github.com/jwtgate/jwtgate"
)

// Shortcuts are an HTTP adapter's constructors of middleware of type M:
// its shortcuts and the general Protect.
type Shortcuts[M any] struct {
	Required, Optional, Fresh, Refresh func() M
	Protect                            func(jwtgate.RouteOptions) M
}

// Pick returns the middleware for o the way an application would write
// it: the shortcut that stands for o when there is one (o made of at most
// one of Optional, Fresh and Refresh and nothing else), else Protect(o),
// so that a conformance run goes through the shortcuts as well.
func Pick[M any](o jwtgate.RouteOptions, s Shortcuts[M]) M {
	rest := o
	rest.Optional, rest.Fresh, rest.Refresh = false, false, false
	if !reflect.ValueOf(rest).IsZero() { // any other option, present or added later
		return s.Protect(o)
	}
	switch {
	case !o.Optional && !o.Fresh && !o.Refresh:
		return s.Required()
	case o.Optional && !o.Fresh && !o.Refresh:
		return s.Optional()
	case o.Fresh && !o.Optional && !o.Refresh:
		return s.Fresh()
	case o.Refresh && !o.Optional && !o.Fresh:
		return s.Refresh()
	}
	return s.Protect(o)
}
