import { createSocket } from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import type { AddressInfo } from 'node:net';
import type { Resolve } from '../../src/net/index.js';

/** A running loopback DNS server. */
export interface TestDnsServer {
  /** `127.0.0.1:<port>`, for `Resolver#setServers`. */
  server: string;
  /** Names asked, in order (A queries). */
  queries: string[];
  /**
   * What `name` answers, query by query: the first query gets `answers[0]`, the next `answers[1]` …,
   * the last one repeats (`['93.184.215.14', '127.0.0.1']` is a rebinding name).
   */
  script(name: string, answers: string[]): void;
  /** A resolver for `NetGuard`'s `resolve` option that asks this server only. */
  resolve: Resolve;
  stop(): Promise<void>;
}

/** Reads a DNS name at `off`; returns it and the offset after it. */
function readName(msg: Buffer, off: number): [string, number] {
  const labels: string[] = [];
  while (msg[off]! > 0) {
    const len = msg[off]!;
    labels.push(msg.subarray(off + 1, off + 1 + len).toString('ascii'));
    off += 1 + len;
  }
  return [labels.join('.').toLowerCase(), off + 1];
}

/**
 * A tiny authoritative DNS server on 127.0.0.1 (UDP, RFC 1035 wire format) answering A queries
 * from a per-name script with TTL 0, so every lookup reaches it; unknown names are NXDOMAIN.
 */
export async function startDnsServer(): Promise<TestDnsServer> {
  const scripts = new Map<string, { answers: string[]; n: number }>();
  const queries: string[] = [];
  const sock = createSocket('udp4');
  sock.on('message', (msg, peer) => {
    if (msg.length < 12) return;
    const [name, end] = readName(msg, 12);
    const qtype = msg.readUInt16BE(end);
    const question = msg.subarray(12, end + 4);
    const s = scripts.get(name);
    let answer: string | undefined;
    if (qtype === 1) {
      queries.push(name);
      if (s) answer = s.answers[Math.min(s.n++, s.answers.length - 1)];
    }
    const header = Buffer.alloc(12);
    msg.copy(header, 0, 0, 2);
    // QR, AA, RD copied, RA; RCODE 3 (NXDOMAIN) for a name we do not know.
    header.writeUInt16BE(0x8580 | ((msg[2]! & 0x01) << 8) | (s ? 0 : 3), 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answer ? 1 : 0, 6);
    const rr = answer
      ? Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, ...answer.split('.').map(Number)])
      : Buffer.alloc(0);
    sock.send(Buffer.concat([header, question, rr]), peer.port, peer.address);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  const server = `127.0.0.1:${(sock.address() as AddressInfo).port}`;
  const resolver = new Resolver({ timeout: 1000, tries: 1 });
  resolver.setServers([server]);
  return {
    server,
    queries,
    script: (name, answers) => void scripts.set(name.toLowerCase(), { answers, n: 0 }),
    resolve: async (host) => (await resolver.resolve4(host)).map((address) => ({ address, family: 4 })),
    stop: () => new Promise<void>((r) => sock.close(() => r())),
  };
}
