package bench

import (
	"net"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// bareServer is the baseline: a gin engine with no middleware answering one route with
// the exact bytes and headers of the gateway's Patient read. The gap between it and
// the gateway is what the gateway itself costs.
type bareServer struct {
	url  string
	srv  *http.Server
	done chan struct{}
}

// startBare serves s on a free loopback port.
func startBare(s *seed) (*bareServer, error) {
	gin.SetMode(gin.ReleaseMode)
	engine := gin.New()
	header := map[string]string{}
	for _, k := range []string{"Content-Type", "ETag", "Last-Modified"} {
		if v := s.header.Get(k); v != "" {
			header[k] = v
		}
	}
	if header["Content-Type"] == "" {
		header["Content-Type"] = "application/fhir+json; charset=utf-8"
	}
	body := s.body
	engine.GET("/fhir/Patient/:id", func(c *gin.Context) {
		for k, v := range header {
			c.Header(k, v)
		}
		c.Data(http.StatusOK, header["Content-Type"], body)
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &bareServer{
		url:  "http://" + l.Addr().String() + "/fhir/Patient/" + s.id,
		srv:  &http.Server{Handler: engine, ReadHeaderTimeout: 10 * time.Second},
		done: make(chan struct{}),
	}
	go func() {
		defer close(b.done)
		// Serve ends with ErrServerClosed at stop; any other failure shows up as
		// failed requests in the measurement.
		_ = b.srv.Serve(l)
	}()
	return b, nil
}

func (b *bareServer) stop() {
	_ = b.srv.Close()
	<-b.done
}
