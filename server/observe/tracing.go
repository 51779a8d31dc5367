package observe

import (
	"context"
	"fmt"
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// tracer makes the gateway's spans. Until StartTracing installs a provider, otel's
// global one is a no-op, so tracing off costs next to nothing.
var tracer = otel.Tracer("github.com/aitgw/aitgw")

type traceOpt = trace.SpanStartOption

func withAttributes(kv ...attribute.KeyValue) traceOpt { return trace.WithAttributes(kv...) }

// Tracer returns the gateway's tracer, for packages that add spans of their own
// (notification delivery).
func Tracer() trace.Tracer { return tracer }

// StartTracing exports spans over OTLP/HTTP to endpoint (a collector's base URL such
// as http://collector:4318, to which /v1/traces is added, or the full traces URL) and
// returns the function that flushes and stops the export.
func StartTracing(ctx context.Context, endpoint, version string) (func(context.Context) error, error) {
	// a base URL gets the traces path, as OTEL_EXPORTER_OTLP_ENDPOINT does
	if u, err := url.Parse(endpoint); err == nil && (u.Path == "" || u.Path == "/") {
		u.Path = "/v1/traces"
		endpoint = u.String()
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint))
	if err != nil {
		return nil, fmt.Errorf("tracing: OTLP endpoint %q: %w", endpoint, err)
	}
	res := resource.NewSchemaless(attribute.String("service.name", "aitgw"), attribute.String("service.version", version))
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	tracer = tp.Tracer("github.com/aitgw/aitgw")
	return tp.Shutdown, nil
}

// TraceHTTP is gin middleware that makes one span per request, continuing the
// caller's W3C trace context. interaction names the request once it is routed
// (server.Interaction); the span carries the method, interaction, type and status,
// never the path or query.
func TraceHTTP(interaction func(*gin.Context) (op, typ string)) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx := otel.GetTextMapPropagator().Extract(c.Request.Context(), propagation.HeaderCarrier(c.Request.Header))
		ctx, span := tracer.Start(ctx, "HTTP "+c.Request.Method, trace.WithSpanKind(trace.SpanKindServer))
		defer span.End()
		c.Request = c.Request.WithContext(ctx)
		c.Next()
		op, typ := interaction(c)
		if op != "" {
			span.SetName(op)
		}
		status := c.Writer.Status()
		span.SetAttributes(attribute.String("http.request.method", c.Request.Method),
			attribute.String("fhir.interaction", op), attribute.String("fhir.type", safeType(typ)),
			attribute.Int("http.response.status_code", status))
		if status >= 500 {
			span.SetStatus(codes.Error, strconv.Itoa(status))
		}
	}
}
