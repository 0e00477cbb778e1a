package main

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/onairfm/onair/cluster"
	"github.com/onairfm/onair/relay"
	"github.com/onairfm/onair/rtc"
	"github.com/onairfm/onair/signalling"
)

// metricsRegistry is what /metrics of a node serves, the same on a single
// node, an origin and an edge. In a cluster two kinds of series are told
// apart (docs/CLUSTER.md, "Metrics"): the cluster's (stations on air,
// onair_listeners, and onair_node_listeners and onair_cluster_nodes, this
// node's view of every node) have no label of this node, and every series
// of this node's own doing (its counters, sockets, NATS traffic, Go
// runtime and process) carries node="<cluster.node>". node is nil on a
// single node, whose series have no node label.
func metricsRegistry(rel *relay.Relay, hub *signalling.Hub, node *cluster.Node, webrtc *rtc.Server) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	var own prometheus.Registerer = reg
	reg.MustRegister(rel)
	if node != nil {
		reg.MustRegister(node)
		own = prometheus.WrapRegistererWith(prometheus.Labels{"node": node.Name}, reg)
		own.MustRegister(node.Counters())
	}
	own.MustRegister(rel.Counters(), webrtc, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "onair_websocket_connections", Help: "Open WebSocket connections."},
			func() float64 { return float64(hub.Connections()) }))
	return reg
}
