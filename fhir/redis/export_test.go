package redis

import (
	"errors"

	"github.com/aitgw/aitgw/fhir"
)

func isConflict(err error) bool { return errors.Is(err, fhir.ErrConflict) }

// frozen plays an instance that stalls: it renews neither its lock nor its leases.
func frozen() Option { return func(c *config) { c.frozen = true } }
