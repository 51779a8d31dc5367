package bolt

import bbolt "go.etcd.io/bbolt"

// bboltTx lets tests reach the raw file.
type bboltTx = bbolt.Tx
