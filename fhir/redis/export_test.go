package redis

import (
	"errors"

	"github.com/aitgw/aitgw/fhir"
)

func isConflict(err error) bool { return errors.Is(err, fhir.ErrConflict) }
