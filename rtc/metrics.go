package rtc

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// stats are the server's WebRTC counters, bumped on the hot paths and read
// when scraped.
type stats struct {
	connected      atomic.Int64 // listeners whose connection came up
	neverConnected atomic.Int64 // listeners that ended before it did
	behind         atomic.Int64 // packets a shard fell too far behind to take, per shard
	unsealed       atomic.Int64 // packets SRTP could not seal for a lite listener
}

var (
	descWebRTCListeners = prometheus.NewDesc("onair_webrtc_listeners_total",
		"WebRTC listeners that ended or are on, by whether their connection ever came up.", []string{"result"}, nil)
	descWebRTCLost = prometheus.NewDesc("onair_webrtc_packets_lost_total",
		"Audio packets the server could not send to WebRTC listeners: a shard too far behind (each of its listeners missed it), SRTP refusing, the kernel refusing a datagram.", []string{"reason"}, nil)
)

// Describe implements prometheus.Collector.
func (w *Server) Describe(ch chan<- *prometheus.Desc) {
	ch <- descWebRTCListeners
	ch <- descWebRTCLost
}

// Collect implements prometheus.Collector: what this node's WebRTC side
// did. All should stay 0 but the listeners.
func (w *Server) Collect(ch chan<- prometheus.Metric) {
	var refused int64
	for _, l := range w.lanes {
		if l.conn != nil {
			refused += l.conn.failed.Load()
		}
	}
	st := &w.stats
	ch <- prometheus.MustNewConstMetric(descWebRTCListeners, prometheus.CounterValue, float64(st.connected.Load()), "connected")
	ch <- prometheus.MustNewConstMetric(descWebRTCListeners, prometheus.CounterValue, float64(st.neverConnected.Load()), "never_connected")
	ch <- prometheus.MustNewConstMetric(descWebRTCLost, prometheus.CounterValue, float64(st.behind.Load()), "behind")
	ch <- prometheus.MustNewConstMetric(descWebRTCLost, prometheus.CounterValue, float64(st.unsealed.Load()), "unsealed")
	ch <- prometheus.MustNewConstMetric(descWebRTCLost, prometheus.CounterValue, float64(refused), "refused")
}
