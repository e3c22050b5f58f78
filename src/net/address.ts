import ipaddr from 'ipaddr.js';

type V4 = ipaddr.IPv4;
type V6 = ipaddr.IPv6;

/**
 * Why an address is not public, as a code (`chat/` words it): the range (`loopback`,
 * `carrier_grade_nat`, `ipv4_mapped` …), or a form that carries an IPv4 address and the code of
 * that address (`nat64:private`, `6to4:link_local`, `teredo:loopback`); `not_ip` when it does
 * not parse. A range ipaddr.js names that is not listed here is its own name.
 */
export type AddressClass = string;

const v4Codes: Record<string, string> = {
  linkLocal: 'link_local',
  carrierGradeNat: 'carrier_grade_nat',
};
const v6Codes: Record<string, string> = {
  linkLocal: 'link_local',
  uniqueLocal: 'unique_local',
  ipv4Mapped: 'ipv4_mapped',
  rfc6145: 'ipv4_translated',
  reserved: 'documentation',
};
// Ranges ipaddr.js 1.9 does not name.
const benchmark = ipaddr.parseCIDR('198.18.0.0/15') as [V4, number];
const globalUnicast = ipaddr.parseCIDR('2000::/3') as [V6, number];
const ietfProtocol = ipaddr.parseCIDR('2001::/23') as [V6, number];
const documentation6 = ipaddr.parseCIDR('3fff::/20') as [V6, number];

const v4FromParts = (hi: number, lo: number): V4 => new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);

function v4Label(a: V4): AddressClass | undefined {
  const r = a.range();
  if (r !== 'unicast') return v4Codes[r] ?? r;
  if (a.match(benchmark)) return 'benchmarking';
  return undefined;
}

function v6Label(a: V6): AddressClass | undefined {
  const p = a.parts;
  const r = a.range();
  // Forms that carry an IPv4 address: judged by the address they lead to.
  if (r === 'rfc6052') {
    const inner = v4Label(v4FromParts(p[6]!, p[7]!));
    return inner && `nat64:${inner}`;
  }
  if (r === '6to4') {
    const inner = v4Label(v4FromParts(p[1]!, p[2]!));
    return inner && `6to4:${inner}`;
  }
  if (r === 'teredo') {
    const server = v4Label(v4FromParts(p[2]!, p[3]!));
    const client = v4Label(v4FromParts(~p[6]! & 0xffff, ~p[7]! & 0xffff));
    return server || client ? `teredo:${server ?? client}` : undefined;
  }
  if (r !== 'unicast') return v6Codes[r] ?? r;
  // ::a.b.c.d (deprecated IPv4-compatible): some stacks still route it to the IPv4 address.
  if (p.slice(0, 6).every((x) => x === 0)) return 'ipv4_compatible';
  if (!a.match(globalUnicast)) return 'reserved';
  if (a.match(ietfProtocol)) return 'ietf_special';
  if (a.match(documentation6)) return 'documentation';
  return undefined;
}

/**
 * Why an IP address is not a public unicast address, as its class (`'loopback'`, `'ipv4_mapped'`
 * …), or undefined when it is one. Anything that does not parse as an IP address is refused.
 */
export function nonPublicReason(address: string): AddressClass | undefined {
  let a: V4 | V6;
  try {
    a = ipaddr.parse(address.replace(/^\[|\]$/g, ''));
  } catch {
    return 'not_ip';
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
