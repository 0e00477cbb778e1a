// Package loopback keeps pion's ICE on 127.0.0.1: the one setting shared by
// the server's webrtc.loopback_only mode and every test client, so that no
// WebRTC traffic can ever leave the machine.
package loopback

import (
	"net"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
)

// Configure restricts se to loopback: loopback candidates on the "lo"
// interface and 127.0.0.1 only, remote candidates filtered to loopback
// addresses, mDNS off (pion's default multicasts queries on every
// interface), UDP over IPv4 only, and no STUN (the caller configures no ICE
// servers).
func Configure(se *webrtc.SettingEngine) {
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetIncludeLoopbackCandidate(true)
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	se.SetIPFilter(func(ip net.IP) bool { return ip.Equal(net.IPv4(127, 0, 0, 1)) })
	se.SetRemoteIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
}
