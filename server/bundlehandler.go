package server

import (
	"context"

	"github.com/aitgw/aitgw/fhir/rest"
)

// BundleHandler may take over a Bundle posted to the base before the standard batch
// and transaction processing: the pathway gives a transaction that carries a referral
// the same intake as $ait-referral. handled false leaves the Bundle to fhir/rest. It
// runs after the guards, with the request's Access set.
type BundleHandler func(ctx context.Context, req *rest.Request, prefer string) (resp *rest.Response, handled bool, err error)

// HandleBundles adds a BundleHandler; handlers are asked in the order added.
func (s *Server) HandleBundles(h BundleHandler) { s.bundleHandlers = append(s.bundleHandlers, h) }

// handledBundle asks the BundleHandlers in turn.
func (s *Server) handledBundle(ctx context.Context, req *rest.Request, prefer string) (*rest.Response, bool, error) {
	for _, h := range s.bundleHandlers {
		if resp, ok, err := h(ctx, req, prefer); ok || err != nil {
			return resp, true, err
		}
	}
	return nil, false, nil
}
