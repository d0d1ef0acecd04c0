package shadowserver

import (
	"bufio"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// scanSMBHeader is the header WriteScanSMB writes: the columns of
// Shadowserver's scan_smb report.
var scanSMBHeader = []string{
	"timestamp", "ip", "protocol", "port", "hostname", "tag", "asn", "geo", "region", "city",
	"naics", "sic", "sector", "smb_implant", "arch", "key", "smbv1_support", "smb_major_number",
	"smb_minor_number", "smb_revision", "smb_version_string",
}

// WriteScanSMB writes a synthetic scan_smb report of rows data rows to w,
// for benchmarks: the shape /work/shared/tools/gen_scan_smb.py writes,
// with documentation addresses and AS numbers only, the same every time
// (a fixed seed). Timestamps start at 2024-09-01 00:00:00 and advance
// 0.8 s a row. Without distinct, 762 addresses from 192.0.2.0/24,
// 198.51.100.0/24 and 203.0.113.0/24 repeat (a noisy report that dedup
// folds); with distinct every row has its own address, from
// 198.18.0.0/15 and then 2001:db8::/32. About 70 % of rows have a host
// name; for IPv6 rows it is not a valid DNS name, as in the script. It
// streams: memory stays small whatever rows is. It returns w's first
// write error.
func WriteScanSMB(w io.Writer, rows int, distinct bool) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := bw.WriteString(strings.Join(scanSMBHeader, ",") + "\n"); err != nil {
		return err
	}
	nets := [3][3]byte{{192, 0, 2}, {198, 51, 100}, {203, 0, 113}}
	geos := [][3]string{
		{"AT", "WIEN", "VIENNA"}, {"AT", "STEIERMARK", "GRAZ"}, {"DE", "BAYERN", "MUNICH"},
		{"DE", "HESSEN", "FRANKFURT AM MAIN"}, {"NL", "NOORD-HOLLAND", "AMSTERDAM"},
		{"FR", "ILE-DE-FRANCE", "PARIS"}, {"PL", "MAZOWIECKIE", "WARSAW"},
	}
	vers := []string{"Y,1,0,0,SMB 1.0", "N,2,1,0,SMB 2.1", "N,3,0,2,SMB 3.0.2", "N,3,1,1,SMB 3.1.1"}
	sectors := []string{"", `"Communications, Service Provider, and Hosting Service"`, "Education", "Government"}
	naics := []string{"0", "517311", "611310", "921190"}
	sics := []string{"0", "737415", "821101"}
	rng := rand.New(rand.NewPCG(42, 42))
	t0 := time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC).Unix()
	const bench4 = 198<<24 | 18<<16 // 198.18.0.0, RFC 2544
	var b, host []byte
	for i := range rows {
		var ip netip.Addr
		switch {
		case !distinct:
			n := nets[i%3]
			ip = netip.AddrFrom4([4]byte{n[0], n[1], n[2], byte(1 + (i/3)%254)})
		case i < 1<<17:
			var a [4]byte
			binary.BigEndian.PutUint32(a[:], uint32(bench4+i))
			ip = netip.AddrFrom4(a)
		default:
			var a [16]byte
			a[0], a[1], a[2], a[3] = 0x20, 0x01, 0x0d, 0xb8 // 2001:db8::, RFC 3849
			binary.BigEndian.PutUint64(a[8:], uint64(i))
			ip = netip.AddrFrom16(a)
		}
		b = time.Unix(t0+int64(i)*4/5, 0).UTC().AppendFormat(b[:0], "2006-01-02 15:04:05")
		b = append(b, ',')
		b = ip.AppendTo(b)
		b = append(b, ",tcp,445,"...)
		if rng.Float64() < 0.7 {
			host = ip.AppendTo(append(host[:0], "host-"...))
			for j, c := range host {
				if c == '.' {
					host[j] = '-'
				}
			}
			b = append(append(b, host...), ".example.net"...)
		}
		g := geos[rng.IntN(len(geos))]
		b = append(b, ",smb,"...)
		b = strconv.AppendInt(b, int64(64496+rng.IntN(16)), 10)
		b = append(append(append(append(append(append(b, ','), g[0]...), ','), g[1]...), ','), g[2]...)
		b = append(append(b, ','), naics[rng.IntN(len(naics))]...)
		b = append(append(b, ','), sics[rng.IntN(len(sics))]...)
		b = append(append(b, ','), sectors[rng.IntN(len(sectors))]...)
		b = append(b, ",N,,,"...)
		b = append(append(b, vers[rng.IntN(len(vers))]...), '\n')
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	return bw.Flush()
}
