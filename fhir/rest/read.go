package rest

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/aitgw/aitgw/fhir"
)

// Read returns the current version of Type/ID: 404 when it never existed, 410 when
// deleted, 304 when If-None-Match or If-Modified-Since say the client has it.
func (s *Service) Read(ctx context.Context, req *Request) (*Response, error) {
	if err := guard(req.Access, "read", req.Type); err != nil {
		return nil, err
	}
	return s.view(ctx, func(tx fhir.Tx) (*Response, error) {
		if err := s.visibility(req.Access, tx, "read").mustSee(req.Type, req.ID); err != nil {
			return nil, err
		}
		rec, err := tx.Current(req.Type, req.ID)
		if err != nil {
			return nil, notFound(err, req.Type, req.ID)
		}
		if rec.Deleted {
			return nil, gone(rec)
		}
		if notModified(req, rec) {
			return &Response{Status: http.StatusNotModified, VersionID: rec.Version, LastModified: rec.LastUpdated}, nil
		}
		return shownResponse(s.visibility(req.Access, tx, "read"), rec)
	})
}

// VRead returns one version of Type/ID.
func (s *Service) VRead(ctx context.Context, req *Request) (*Response, error) {
	v, err := strconv.ParseInt(req.Version, 10, 64)
	if err != nil || v < 1 {
		return nil, fhir.Errorf(http.StatusNotFound, "not-found", "", "no version %q of %s/%s", req.Version, req.Type, req.ID)
	}
	if err := guard(req.Access, "vread", req.Type); err != nil {
		return nil, err
	}
	return s.view(ctx, func(tx fhir.Tx) (*Response, error) {
		if err := s.visibility(req.Access, tx, "vread").mustSee(req.Type, req.ID); err != nil {
			return nil, err
		}
		rec, err := tx.Version(req.Type, req.ID, v)
		if err != nil {
			if errors.Is(err, fhir.ErrNotFound) {
				return nil, fhir.Errorf(http.StatusNotFound, "not-found", "", "no version %d of %s/%s", v, req.Type, req.ID)
			}
			return nil, err
		}
		if rec.Deleted {
			return nil, gone(rec)
		}
		vis := s.visibility(req.Access, tx, "vread")
		if ok, err := vis.sawVersion(rec); err != nil || !ok {
			if err != nil {
				return nil, err
			}
			return nil, forbidden(req.Type+".id", "version %d of %s/%s belonged to a patient outside what the access token may reach", v, req.Type, req.ID)
		}
		return shownResponse(vis, rec)
	})
}

func notFound(err error, typ, id string) error {
	if errors.Is(err, fhir.ErrNotFound) {
		return fhir.Errorf(http.StatusNotFound, "not-found", "", "%s/%s is not known", typ, id)
	}
	return err
}

func gone(rec *fhir.Record) error {
	return fhir.Errorf(http.StatusGone, "deleted", "", "%s/%s was deleted (version %d)", rec.Type, rec.ID, rec.Version)
}

func notModified(req *Request, rec *fhir.Record) bool {
	if req.IfNoneMatch != "" {
		if v, ok := ParseETag(req.IfNoneMatch); ok && v == rec.Version {
			return true
		}
		return false
	}
	if req.IfModifiedSince != "" {
		if t, err := http.ParseTime(req.IfModifiedSince); err == nil {
			return !rec.LastUpdated.Truncate(time.Second).After(t)
		}
	}
	return false
}
