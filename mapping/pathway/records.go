package pathway

import (
	"context"
	"encoding/json"
	"net/url"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
	"github.com/aitgw/aitgw/mapping"
)

// txRecords reads inside a write's transaction (mapping.Records).
type txRecords struct{ w *rest.Writer }

func (r txRecords) Read(typ, id string) ([]byte, error) {
	rec, err := r.w.Tx().Current(typ, id)
	if err != nil {
		return nil, err
	}
	if rec.Deleted {
		return nil, fhir.ErrGone
	}
	return rec.Body, nil
}

func (r txRecords) Search(typ, query string) ([][]byte, error) {
	ids, err := r.w.Match(typ, query)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for _, id := range ids {
		if b, err := current(r.w.Tx(), typ, id); err == nil && b != nil {
			out = append(out, b)
		}
	}
	return out, nil
}

// ServiceRecords reads through the service's read and search interactions with a
// client's Access, so that an operation sees exactly what the client may see
// (mapping.Records).
type ServiceRecords struct {
	Ctx     context.Context
	Service *rest.Service
	Access  rest.Access
}

var _ mapping.Records = ServiceRecords{}

// Read implements mapping.Records.
func (r ServiceRecords) Read(typ, id string) ([]byte, error) {
	resp, err := r.Service.Read(r.Ctx, &rest.Request{Method: "GET", Type: typ, ID: id, Op: "read", Access: r.Access})
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// Search implements mapping.Records: the matches of the first page (the query may
// set _count).
func (r ServiceRecords) Search(typ, query string) ([][]byte, error) {
	q, err := url.ParseQuery(query)
	if err != nil {
		return nil, fhir.Errorf(400, "value", "", "malformed query: %v", err)
	}
	resp, err := r.Service.Search(r.Ctx, &rest.Request{Method: "GET", Type: typ, Query: q, Op: "search-type", Access: r.Access})
	if err != nil {
		return nil, err
	}
	var b struct {
		Entry []struct {
			Resource json.RawMessage `json:"resource"`
			Search   struct {
				Mode string `json:"mode"`
			} `json:"search"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(resp.Body, &b); err != nil {
		return nil, err
	}
	var out [][]byte
	for _, e := range b.Entry {
		if e.Search.Mode == "" || e.Search.Mode == "match" {
			out = append(out, e.Resource)
		}
	}
	return out, nil
}
