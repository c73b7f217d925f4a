package jwk

import (
	"strconv"

	"github.com/jwtgate/jwtgate/internal/strictjson"
)

// MaxJSONDepth is the deepest nesting of objects and arrays accepted in a
// JWK or JWK Set.
const MaxJSONDepth = strictjson.MaxDepth

// appendMember appends ,"name":"value" (without the comma for the first
// member of an object, which the caller writes itself). The value is
// escaped as encoding/json escapes it.
func appendMember(b []byte, name, val string) []byte {
	if len(b) > 0 && b[len(b)-1] != '{' {
		b = append(b, ',')
	}
	b = strconv.AppendQuote(b, name) // member names are fixed ASCII
	b = append(b, ':')
	return strictjson.AppendHTMLSafeString(b, val)
}
