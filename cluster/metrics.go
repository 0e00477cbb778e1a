package cluster

import "github.com/prometheus/client_golang/prometheus"

var (
	descNodeListeners = prometheus.NewDesc("onair_node_listeners", "Audio listeners on each node of the cluster, by transport.", []string{"node", "transport"}, nil)
	descNodes         = prometheus.NewDesc("onair_cluster_nodes", "Nodes of the cluster this node hears from, itself included.", nil, nil)
	descHealthy       = prometheus.NewDesc("onair_cluster_connected", "1 while this node is connected to NATS.", nil, nil)
	descMsgs          = prometheus.NewDesc("onair_cluster_messages_total", "NATS messages this node published and received.", []string{"direction"}, nil)
	descBytes         = prometheus.NewDesc("onair_cluster_bytes_total", "NATS payload bytes this node published and received.", []string{"direction"}, nil)
	descDelay         = prometheus.NewDesc("onair_cluster_delay_seconds", "Origin to this edge delay of the last 4096 HTTP audio chunks, Opus packets and events.", []string{"kind", "quantile"}, nil)
	descDropped       = prometheus.NewDesc("onair_cluster_messages_dropped_total", "Messages dropped: bad, out of order, or not sent.", nil, nil)
)

// Describe implements prometheus.Collector.
func (n *Node) Describe(ch chan<- *prometheus.Desc) {
	ch <- descNodeListeners
	ch <- descNodes
}

// Collect implements prometheus.Collector: the cluster as this node sees
// it, every node's listeners (this one's and each other's as it last
// said) under a node label naming that node, and how many nodes there
// are. What this node itself did is Counters.
func (n *Node) Collect(ch chan<- prometheus.Metric) {
	per := n.table.snapshot()
	per[n.Name] = n.localLoads()
	for name, stations := range per {
		var http, rtc int
		for _, l := range stations {
			http += l.HTTP
			rtc += l.WebRTC
		}
		ch <- prometheus.MustNewConstMetric(descNodeListeners, prometheus.GaugeValue, float64(http), name, "http")
		ch <- prometheus.MustNewConstMetric(descNodeListeners, prometheus.GaugeValue, float64(rtc), name, "webrtc")
	}
	ch <- prometheus.MustNewConstMetric(descNodes, prometheus.GaugeValue, float64(len(per)))
}

// Counters is this node's own side of the cluster, as a Prometheus
// collector: its NATS connection, what it carried and dropped, and the
// delays of what reached it. cmd labels them with the node's name.
func (n *Node) Counters() prometheus.Collector { return nodeCounters{n} }

type nodeCounters struct{ n *Node }

func (c nodeCounters) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descHealthy, descMsgs, descBytes, descDropped, descDelay} {
		ch <- d
	}
}

func (c nodeCounters) Collect(ch chan<- prometheus.Metric) {
	n := c.n
	up := 0.0
	if n.Healthy() {
		up = 1
	}
	ch <- prometheus.MustNewConstMetric(descHealthy, prometheus.GaugeValue, up)
	ch <- prometheus.MustNewConstMetric(descMsgs, prometheus.CounterValue, float64(n.stats.published.Load()), "out")
	ch <- prometheus.MustNewConstMetric(descMsgs, prometheus.CounterValue, float64(n.stats.received.Load()), "in")
	ch <- prometheus.MustNewConstMetric(descBytes, prometheus.CounterValue, float64(n.stats.bytesOut.Load()), "out")
	ch <- prometheus.MustNewConstMetric(descBytes, prometheus.CounterValue, float64(n.stats.bytesIn.Load()), "in")
	ch <- prometheus.MustNewConstMetric(descDropped, prometheus.CounterValue, float64(n.stats.dropped.Load()))
	for kind, d := range map[string]*delays{"audio": &n.audioDelay, "opus": &n.opusDelay, "events": &n.eventDelay} {
		if p50, p99, ok := d.quantiles(); ok {
			ch <- prometheus.MustNewConstMetric(descDelay, prometheus.GaugeValue, p50.Seconds(), kind, "0.5")
			ch <- prometheus.MustNewConstMetric(descDelay, prometheus.GaugeValue, p99.Seconds(), kind, "0.99")
		}
	}
}
