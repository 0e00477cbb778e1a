package oggopus

// crcTable is the CRC-32 of Ogg pages (RFC 3533 §6): polynomial
// 0x04c11db7, not reflected, initial value 0, no final xor. It is not the
// IEEE CRC of hash/crc32, which is reflected.
var crcTable = func() (t [256]uint32) {
	for i := range t {
		r := uint32(i) << 24
		for range 8 {
			if r&0x80000000 != 0 {
				r = r<<1 ^ 0x04c11db7
			} else {
				r <<= 1
			}
		}
		t[i] = r
	}
	return t
}()

// crc returns the Ogg CRC of b.
func crc(b []byte) uint32 { return CRC(0, b) }

// CRC continues the Ogg page checksum c over b: CRC(CRC(0, a), b) is the
// checksum of a then b. Readers of Ogg pages (live sources) check pages
// with it.
func CRC(c uint32, b []byte) uint32 {
	for _, x := range b {
		c = c<<8 ^ crcTable[byte(c>>24)^x]
	}
	return c
}
