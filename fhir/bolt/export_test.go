package bolt

import (
	bbolt "go.etcd.io/bbolt"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/storecodec"
)

// bboltTx lets tests reach the raw file.
type bboltTx = bbolt.Tx

// encodeStoredPlain is a ver value as format 2 wrote it.
func encodeStoredPlain(rec *fhir.Record) []byte { return storecodec.EncodeRecord(rec) }
