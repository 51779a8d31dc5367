package notify

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aitgw/aitgw/fhir"
)

// Canonical URLs of the Subscriptions R4 Backport IG 1.1.
const (
	backportSD            = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/"
	extFilterCriteria     = backportSD + "backport-filter-criteria"
	extPayloadContent     = backportSD + "backport-payload-content"
	extHeartbeatPeriod    = backportSD + "backport-heartbeat-period"
	extTimeout            = backportSD + "backport-timeout"
	profileStatusR4       = backportSD + "backport-subscription-status-r4"
	profileNotificationR4 = backportSD + "backport-subscription-notification-r4"
	// ExtTopicCanonical is the CapabilityStatement.rest.resource extension that
	// advertises a supported topic.
	ExtTopicCanonical = backportSD + "capabilitystatement-subscriptiontopic-canonical"
)

// TopicBase prefixes the canonical of every milestone topic; TopicAllMilestones is
// the topic of every milestone.
const (
	TopicBase          = "https://aitgw.org/fhir/SubscriptionTopic/"
	TopicAllMilestones = TopicBase + "milestone"
)

// TopicCanonical is the SubscriptionTopic canonical of a milestone code.
func TopicCanonical(code string) string { return TopicBase + "milestone-" + code }

// TopicCanonicals lists the topics the gateway supports, for the CapabilityStatement
// (ExtTopicCanonical on rest.resource where type = Subscription).
func TopicCanonicals() []string {
	out := []string{TopicAllMilestones}
	for _, l := range LetterRules {
		out = append(out, TopicCanonical(l.Code))
	}
	return out
}

// CapabilityExtensions renders the topic extensions for the CapabilityStatement's
// Subscription resource entry.
func CapabilityExtensions() []byte {
	type ext struct {
		URL            string `json:"url"`
		ValueCanonical string `json:"valueCanonical"`
	}
	var out []ext
	for _, c := range TopicCanonicals() {
		out = append(out, ext{ExtTopicCanonical, c})
	}
	b, _ := json.Marshal(out)
	return b
}

// Payload contents (backport-payload-content).
const (
	PayloadEmpty        = "empty"
	PayloadIDOnly       = "id-only"
	PayloadFullResource = "full-resource"
)

// subscription is what the gateway reads of an R4 Subscription with the backport
// extensions.
type subscription struct {
	ID       string
	Status   string
	Topic    string
	Filters  []string // "Communication?patient=Patient/1"
	Type     string
	Endpoint string
	Headers  []string
	Payload  string // mime type
	Content  string // empty | id-only | full-resource
	// Heartbeat and Timeout are zero when not asked for.
	Heartbeat, Timeout time.Duration
	End                time.Time
}

type extension struct {
	URL              string `json:"url"`
	ValueString      string `json:"valueString,omitempty"`
	ValueCode        string `json:"valueCode,omitempty"`
	ValueUnsignedInt *int   `json:"valueUnsignedInt,omitempty"`
	ValuePositiveInt *int   `json:"valuePositiveInt,omitempty"`
}

type element struct {
	Extension []extension `json:"extension"`
}

func (e *element) ext(url string) []extension {
	if e == nil {
		return nil
	}
	var out []extension
	for _, x := range e.Extension {
		if x.URL == url {
			out = append(out, x)
		}
	}
	return out
}

func (e *element) seconds(url string) time.Duration {
	for _, x := range e.ext(url) {
		for _, v := range []*int{x.ValueUnsignedInt, x.ValuePositiveInt} {
			if v != nil && *v > 0 {
				return time.Duration(*v) * time.Second
			}
		}
	}
	return 0
}

// parseSubscription reads a stored Subscription. It is lenient: what the gateway
// cannot use makes the subscription match nothing rather than fail a milestone.
func parseSubscription(id string, body []byte) (*subscription, error) {
	var raw struct {
		Status   string   `json:"status"`
		Criteria string   `json:"criteria"`
		CritExt  *element `json:"_criteria"`
		End      string   `json:"end"`
		Channel  struct {
			element
			Type       string   `json:"type"`
			Endpoint   string   `json:"endpoint"`
			Payload    string   `json:"payload"`
			PayloadExt *element `json:"_payload"`
			Header     []string `json:"header"`
		} `json:"channel"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, err
	}
	s := &subscription{ID: id, Status: raw.Status, Topic: raw.Criteria, Type: raw.Channel.Type,
		Endpoint: raw.Channel.Endpoint, Headers: raw.Channel.Header, Payload: raw.Channel.Payload,
		Heartbeat: raw.Channel.seconds(extHeartbeatPeriod), Timeout: raw.Channel.seconds(extTimeout)}
	for _, x := range raw.CritExt.ext(extFilterCriteria) {
		s.Filters = append(s.Filters, x.ValueString)
	}
	s.Content = PayloadIDOnly // the IG's advice when unspecified
	for _, x := range raw.Channel.PayloadExt.ext(extPayloadContent) {
		s.Content = x.ValueCode
	}
	if raw.End != "" {
		s.End, _ = time.Parse(time.RFC3339, raw.End)
	}
	return s, nil
}

// listens reports whether the subscription wants events of a milestone at now.
func (s *subscription) listens(code string, now time.Time) bool {
	if s.Status != "active" && s.Status != "requested" && s.Status != "error" {
		return false
	}
	if !s.End.IsZero() && now.After(s.End) {
		return false
	}
	return s.Topic == TopicAllMilestones || s.Topic == TopicCanonical(code)
}

// matches reports whether the Communication comm, already put in w's transaction,
// passes the subscription's filters. The filters are Communication searches
// (backport-filter-criteria, e.g. "Communication?patient=Patient/1"), run by the
// gateway's own search engine restricted to comm.
//
// A Subscription a confined client wrote also only ever matches Communications about
// the patients it was confined to then (auxConfinedTo), whatever its filters say.
func (s *subscription) matches(w Writer, comm string) (bool, error) {
	raw, err := w.Tx().GetAux(auxConfinedTo, s.ID)
	if err != nil {
		return false, err
	}
	if raw != nil {
		var patients []string
		if json.Unmarshal(raw, &patients) != nil || len(patients) == 0 {
			return false, nil
		}
		refs := make([]string, len(patients))
		for i, p := range patients {
			refs[i] = "Patient/" + p
		}
		ids, err := w.Match("Communication", url.Values{"patient": {strings.Join(refs, ",")}, "_id": {comm}}.Encode())
		if err != nil || len(ids) == 0 {
			return false, nil
		}
	}
	for _, f := range s.Filters {
		typ, query, _ := strings.Cut(f, "?")
		if typ != "Communication" {
			return false, nil
		}
		ids, err := w.Match("Communication", query+"&_id="+comm)
		if err != nil {
			// A filter the engine refuses matches nothing rather than failing the
			// clinical write that raised the milestone.
			return false, nil
		}
		if len(ids) == 0 {
			return false, nil
		}
	}
	return true, nil
}

// Notification types of SubscriptionStatus.type.
const (
	TypeHandshake    = "handshake"
	TypeHeartbeat    = "heartbeat"
	TypeEvent        = "event-notification"
	TypeQueryStatus  = "query-status"
	TypeQueryEvent   = "query-event"
	contentTypeFHIR  = "application/fhir+json"
	idempotencyField = "Idempotency-Key"
)

// param is one Parameters.parameter.
type param struct {
	Name           string          `json:"name"`
	ValueString    string          `json:"valueString,omitempty"`
	ValueCode      string          `json:"valueCode,omitempty"`
	ValueCanonical string          `json:"valueCanonical,omitempty"`
	ValueInstant   string          `json:"valueInstant,omitempty"`
	ValueReference *reference      `json:"valueReference,omitempty"`
	Part           []param         `json:"part,omitempty"`
	Resource       json.RawMessage `json:"resource,omitempty"`
}

type reference struct {
	Reference string `json:"reference"`
}

// statusParameters builds the SubscriptionStatus (R4 backport: a Parameters).
func statusParameters(base string, s *subscription, typ string, since int64, events []event, content string) json.RawMessage {
	ps := []param{
		{Name: "subscription", ValueReference: &reference{base + "Subscription/" + s.ID}},
		{Name: "topic", ValueCanonical: s.Topic},
		{Name: "status", ValueCode: s.Status},
		{Name: "type", ValueCode: typ},
		{Name: "events-since-subscription-start", ValueString: strconv.FormatInt(since, 10)},
	}
	for _, e := range events {
		parts := []param{
			{Name: "event-number", ValueString: strconv.FormatInt(e.N, 10)},
			{Name: "timestamp", ValueInstant: e.Time.UTC().Format(time.RFC3339Nano)},
		}
		if content != PayloadEmpty {
			parts = append(parts, param{Name: "focus", ValueReference: &reference{base + "Communication/" + e.Communication}})
		}
		ps = append(ps, param{Name: "notification-event", Part: parts})
	}
	b, _ := json.Marshal(struct {
		ResourceType string  `json:"resourceType"`
		ID           string  `json:"id"`
		Meta         any     `json:"meta"`
		Parameter    []param `json:"parameter"`
	}{"Parameters", newID(), map[string][]string{"profile": {profileStatusR4}}, ps})
	return b
}

// bundleEntry is one entry of a notification Bundle.
type bundleEntry struct {
	FullURL  string          `json:"fullUrl"`
	Resource json.RawMessage `json:"resource,omitempty"`
	Request  *entryRequest   `json:"request,omitempty"`
	Response *entryResponse  `json:"response,omitempty"`
}

type entryRequest struct {
	Method string `json:"method"`
	URL    string `json:"url"`
}

type entryResponse struct {
	Status string `json:"status"`
}

// notificationBundle builds the Bundle of type history a rest-hook receives: the
// SubscriptionStatus first, then the focus resources as the payload content asks
// (bodies: Communication id → JSON, for full-resource).
func notificationBundle(base string, s *subscription, typ string, since int64, events []event, bodies map[string][]byte, now time.Time) []byte {
	status := statusParameters(base, s, typ, since, events, s.Content)
	entries := []bundleEntry{{
		FullURL: "urn:uuid:" + newID(), Resource: status,
		Request:  &entryRequest{http.MethodGet, base + "Subscription/" + s.ID + "/$status"},
		Response: &entryResponse{"200"},
	}}
	if s.Content != PayloadEmpty {
		for _, e := range events {
			en := bundleEntry{FullURL: base + "Communication/" + e.Communication,
				Request:  &entryRequest{http.MethodPost, "Communication"},
				Response: &entryResponse{"201"}}
			if s.Content == PayloadFullResource {
				en.Resource = bodies[e.Communication]
			}
			entries = append(entries, en)
		}
	}
	b, _ := json.Marshal(struct {
		ResourceType string        `json:"resourceType"`
		ID           string        `json:"id"`
		Meta         any           `json:"meta"`
		Type         string        `json:"type"`
		Timestamp    string        `json:"timestamp"`
		Entry        []bundleEntry `json:"entry"`
	}{"Bundle", newID(), map[string][]string{"profile": {profileNotificationR4}}, "history",
		now.UTC().Format(time.RFC3339Nano), entries})
	return b
}

// loadSubscription reads a current Subscription.
func loadSubscription(tx fhir.Tx, id string) (*subscription, error) {
	rec, err := tx.Current("Subscription", id)
	if err != nil {
		return nil, err
	}
	if rec.Deleted {
		return nil, fhir.ErrGone
	}
	return parseSubscription(id, rec.Body)
}

// StatusOperation answers Subscription/{id}/$status: a Bundle of type searchset
// holding the subscription's SubscriptionStatus (R4 backport).
func StatusOperation(tx fhir.Tx, base, id string) ([]byte, error) {
	s, err := loadSubscription(tx, id)
	if err != nil {
		return nil, err
	}
	n, err := eventCount(tx, id)
	if err != nil {
		return nil, err
	}
	st := statusParameters(base, s, TypeQueryStatus, n, nil, PayloadEmpty)
	return searchset(base, []bundleEntry{{FullURL: "urn:uuid:" + newID(), Resource: st}}), nil
}

// EventsOperation answers Subscription/{id}/$events?eventsSinceNumber&eventsUntilNumber
// (zero: unbounded) with a notification Bundle of type history, status type
// query-event, carrying the events asked for with the subscription's payload content
// (content, when not empty, overrides it).
func EventsOperation(tx fhir.Tx, base, id string, since, until int64, content string) ([]byte, error) {
	s, err := loadSubscription(tx, id)
	if err != nil {
		return nil, err
	}
	if content != "" {
		if content != PayloadEmpty && content != PayloadIDOnly && content != PayloadFullResource {
			return nil, fhir.Errorf(http.StatusBadRequest, "value", "Parameters.parameter.where(name='content')", "content must be empty, id-only or full-resource")
		}
		s.Content = content
	}
	n, err := eventCount(tx, id)
	if err != nil {
		return nil, err
	}
	if since < 1 {
		since = 1
	}
	if until == 0 || until > n {
		until = n
	}
	const maxEvents = 1000
	if until-since+1 > maxEvents {
		since = until - maxEvents + 1
	}
	var evs []event
	bodies := map[string][]byte{}
	for i := since; i <= until; i++ {
		var e event
		ok, err := getJSON(tx, eventKey(id, i), &e)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		evs = append(evs, e)
		if s.Content == PayloadFullResource {
			if rec, err := tx.Current("Communication", e.Communication); err == nil && !rec.Deleted {
				bodies[e.Communication] = rec.Body
			}
		}
	}
	return notificationBundle(base, s, TypeQueryEvent, n, evs, bodies, time.Now()), nil
}

func searchset(base string, entries []bundleEntry) []byte {
	b, _ := json.Marshal(struct {
		ResourceType string        `json:"resourceType"`
		ID           string        `json:"id"`
		Type         string        `json:"type"`
		Total        int           `json:"total"`
		Entry        []bundleEntry `json:"entry"`
	}{"Bundle", newID(), "searchset", len(entries), entries})
	return b
}
