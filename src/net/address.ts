import ipaddr from 'ipaddr.js';

type V4 = ipaddr.IPv4;
type V6 = ipaddr.IPv6;

const v4Labels: Record<string, string> = {
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  multicast: 'multicast',
  linkLocal: 'link-local',
  loopback: 'loopback',
  carrierGradeNat: 'carrier-grade NAT 100.64.0.0/10',
  private: 'private',
  reserved: 'reserved',
};
const v6Labels: Record<string, string> = {
  unspecified: 'unspecified',
  linkLocal: 'link-local',
  multicast: 'multicast',
  loopback: 'loopback',
  uniqueLocal: 'unique-local',
  ipv4Mapped: 'IPv4-mapped IPv6',
  rfc6145: 'IPv4-translated IPv6',
  reserved: 'documentation',
};
// Ranges ipaddr.js 1.9 does not name.
const benchmark = ipaddr.parseCIDR('198.18.0.0/15') as [V4, number];
const globalUnicast = ipaddr.parseCIDR('2000::/3') as [V6, number];
const ietfProtocol = ipaddr.parseCIDR('2001::/23') as [V6, number];
const documentation6 = ipaddr.parseCIDR('3fff::/20') as [V6, number];

const v4FromParts = (hi: number, lo: number): V4 => new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);

function v4Label(a: V4): string | undefined {
  const r = a.range();
  if (r !== 'unicast') return v4Labels[r] ?? r;
  if (a.match(benchmark)) return 'benchmarking 198.18.0.0/15';
  return undefined;
}

function v6Label(a: V6): string | undefined {
  const p = a.parts;
  const r = a.range();
  // Forms that carry an IPv4 address: judged by the address they lead to.
  if (r === 'rfc6052') {
    const inner = v4Label(v4FromParts(p[6]!, p[7]!));
    return inner && `NAT64 of a ${inner} address`;
  }
  if (r === '6to4') {
    const inner = v4Label(v4FromParts(p[1]!, p[2]!));
    return inner && `6to4 of a ${inner} address`;
  }
  if (r === 'teredo') {
    const server = v4Label(v4FromParts(p[2]!, p[3]!));
    const client = v4Label(v4FromParts(~p[6]! & 0xffff, ~p[7]! & 0xffff));
    return server || client ? `Teredo of a ${server ?? client} address` : undefined;
  }
  if (r !== 'unicast') return v6Labels[r] ?? r;
  // ::a.b.c.d (deprecated IPv4-compatible): some stacks still route it to the IPv4 address.
  if (p.slice(0, 6).every((x) => x === 0)) return 'IPv4-compatible IPv6';
  if (!a.match(globalUnicast)) return 'reserved';
  if (a.match(ietfProtocol)) return 'IETF special-purpose';
  if (a.match(documentation6)) return 'documentation';
  return undefined;
}

/**
 * Why an IP address is not a public unicast address (`'loopback'`, `'IPv4-mapped IPv6'` …), or
 * undefined when it is one. Anything that does not parse as an IP address is refused.
 */
export function nonPublicReason(address: string): string | undefined {
  let a: V4 | V6;
  try {
    a = ipaddr.parse(address.replace(/^\[|\]$/g, ''));
  } catch {
    return 'not an IP address';
  }
  return a.kind() === 'ipv4' ? v4Label(a as V4) : v6Label(a as V6);
}

/** The canonical text of an IP address (lower-case, compressed IPv6), or undefined if it is none. */
export function canonicalAddress(address: string): string | undefined {
  try {
    return ipaddr.parse(address.replace(/^\[|\]$/g, '')).toString();
  } catch {
    return undefined;
  }
}
