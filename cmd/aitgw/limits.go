package main

import (
	"flag"
	"net/http"
	"time"

	"github.com/aitgw/aitgw/fhir/rest"
)

// limits are the bounds on one request's work and on the HTTP connections, set by
// serve's flags; README.md's Settings table lists them with their defaults.
type limits struct {
	rest     rest.Limits
	maxCount int
	// readTimeout bounds reading a whole request, body included; writeTimeout, writing
	// the answer; idleTimeout, how long a keep-alive connection waits for the next one.
	readTimeout, writeTimeout, idleTimeout time.Duration
}

// flags declares the limits on fs.
func (l *limits) flags(fs *flag.FlagSet) {
	fs.IntVar(&l.rest.BundleEntries, "max-bundle-entries", rest.DefaultBundleEntries, "most entries in a batch or transaction Bundle (413 beyond)")
	fs.IntVar(&l.rest.BatchSearches, "max-batch-searches", rest.DefaultBatchSearches, "most search entries in a batch or transaction Bundle (422 beyond)")
	fs.IntVar(&l.rest.PatchOps, "max-patch-ops", rest.DefaultPatchOps, "most operations in a JSON Patch (413 beyond)")
	fs.IntVar(&l.rest.PatchResult, "max-patch-result", rest.DefaultPatchResult, "largest resource a JSON Patch may produce, in bytes (413 beyond)")
	fs.IntVar(&l.rest.ResponseBytes, "max-response", rest.DefaultResponseBytes, "largest search or batch response, in bytes (422 beyond)")
	fs.IntVar(&l.rest.Includes, "max-includes", rest.DefaultIncludes, "most _include/_revinclude resources on one search page (422 beyond)")
	fs.IntVar(&l.maxCount, "max-count", rest.DefaultMaxPageSize, "largest _count of a search page (422 beyond)")
	fs.DurationVar(&l.rest.Deadline, "request-deadline", rest.DefaultDeadline, "how long one FHIR request may run before it is cancelled, with nothing written (422)")
	fs.DurationVar(&l.readTimeout, "read-timeout", 30*time.Second, "time to read a whole request, body included")
	fs.DurationVar(&l.writeTimeout, "write-timeout", 60*time.Second, "time to write an answer, from the end of the request headers")
	fs.DurationVar(&l.idleTimeout, "idle-timeout", 60*time.Second, "how long an idle keep-alive connection is kept")
}

// server returns an http.Server with the connection timeouts.
func (l *limits) server(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: l.readTimeout, WriteTimeout: l.writeTimeout, IdleTimeout: l.idleTimeout}
}
