package relay

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// stats are relay-wide counters, read by the Prometheus collector.
type stats struct {
	httpConnects atomic.Int64
	httpDropped  atomic.Int64
	bytesSent    atomic.Int64

	sourceConnects     atomic.Int64
	sourceDisconnects  atomic.Int64
	sourceBytes        atomic.Int64
	sourceDecodeErrors atomic.Int64
}

var (
	descStations  = prometheus.NewDesc("onair_live_stations", "Stations on air.", nil, nil)
	descListeners = prometheus.NewDesc("onair_listeners", "Audio listeners by transport (in a cluster, the whole cluster's).", []string{"transport"}, nil)
	descConnects  = prometheus.NewDesc("onair_http_listener_connects_total", "HTTP listeners that connected.", nil, nil)
	descDropped   = prometheus.NewDesc("onair_http_listeners_dropped_total", "HTTP listeners dropped for falling behind.", nil, nil)
	descBytes     = prometheus.NewDesc("onair_http_sent_bytes_total", "Bytes sent to HTTP listeners that have left.", nil, nil)

	descSourceConnects    = prometheus.NewDesc("onair_source_connects_total", "Live sources that took the air.", nil, nil)
	descSourceDisconnects = prometheus.NewDesc("onair_source_disconnects_total", "Live sources that gave the air back.", nil, nil)
	descSourceBytes       = prometheus.NewDesc("onair_source_received_bytes_total", "Bytes received from live sources.", nil, nil)
	descSourceDecodeErrs  = prometheus.NewDesc("onair_source_decode_errors_total", "Live source audio that did not decode.", nil, nil)
)

// Describe implements prometheus.Collector.
func (r *Relay) Describe(ch chan<- *prometheus.Desc) {
	ch <- descStations
	ch <- descListeners
}

// Collect implements prometheus.Collector: the stations on air and their
// listeners, which in a cluster are the whole cluster's (the Nodes table's
// counts added to this node's), like station JSON. What this node itself
// did is Counters. Figures are read when scraped, so the hot paths only
// bump atomics.
func (r *Relay) Collect(ch chan<- prometheus.Metric) {
	r.mu.Lock()
	n := len(r.stations)
	var http, rtc int
	for _, s := range r.stations {
		l := s.listenerCounts()
		http += l.HTTP
		rtc += l.WebRTC
	}
	r.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(descStations, prometheus.GaugeValue, float64(n))
	ch <- prometheus.MustNewConstMetric(descListeners, prometheus.GaugeValue, float64(http), "http")
	ch <- prometheus.MustNewConstMetric(descListeners, prometheus.GaugeValue, float64(rtc), "webrtc")
}

// Counters is what this node's relay did, as a Prometheus collector: HTTP
// listeners connected, dropped and served, live sources taken and their
// bytes. In a cluster cmd labels them with the node's name.
func (r *Relay) Counters() prometheus.Collector { return counters{r} }

type counters struct{ r *Relay }

func (c counters) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descConnects, descDropped, descBytes,
		descSourceConnects, descSourceDisconnects, descSourceBytes, descSourceDecodeErrs} {
		ch <- d
	}
}

func (c counters) Collect(ch chan<- prometheus.Metric) {
	st := &c.r.stats
	ch <- prometheus.MustNewConstMetric(descConnects, prometheus.CounterValue, float64(st.httpConnects.Load()))
	ch <- prometheus.MustNewConstMetric(descDropped, prometheus.CounterValue, float64(st.httpDropped.Load()))
	ch <- prometheus.MustNewConstMetric(descBytes, prometheus.CounterValue, float64(st.bytesSent.Load()))
	ch <- prometheus.MustNewConstMetric(descSourceConnects, prometheus.CounterValue, float64(st.sourceConnects.Load()))
	ch <- prometheus.MustNewConstMetric(descSourceDisconnects, prometheus.CounterValue, float64(st.sourceDisconnects.Load()))
	ch <- prometheus.MustNewConstMetric(descSourceBytes, prometheus.CounterValue, float64(st.sourceBytes.Load()))
	ch <- prometheus.MustNewConstMetric(descSourceDecodeErrs, prometheus.CounterValue, float64(st.sourceDecodeErrors.Load()))
}
