import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { signBody } from '../../src/audit/sink.js';
import { world, type World } from '../support/world.js';

const SECRET = 'audit-webhook-secret-for-tests';
const wait = { timeout: 20_000, interval: 25 };

/** A loopback SIEM endpoint: records each delivery, checks its signature; can be down (503) or hang. */
async function startReceiver() {
  const r = {
    mode: 'up' as 'up' | 'down' | 'hang',
    /** Event ids in the order they arrived (a redelivery appears twice). */
    ids: [] as string[],
    refused: 0,
    hanging: 0,
    badSignatures: 0,
    url: '',
    held: [] as http.ServerResponse[],
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      if (req.headers['x-onbehalf-signature'] !== signBody(SECRET, body)) r.badSignatures++;
      if (r.mode === 'hang') {
        r.hanging++;
        r.held.push(res);
        return;
      }
      if (r.mode === 'down') {
        r.refused++;
        return void res.writeHead(503).end();
      }
      for (const line of body.split('\n').filter(Boolean))
        r.ids.push((JSON.parse(line) as { eventId: string }).eventId);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/audit`;
  return {
    r,
    stop: () =>
      new Promise<void>((ok) => {
        for (const res of r.held) res.destroy();
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

describe('audit sink: every audit event reaches AUDIT_WEBHOOK_URL as signed JSON lines', () => {
  let w: World;
  let rx: Awaited<ReturnType<typeof startReceiver>>;
  beforeAll(async () => {
    rx = await startReceiver();
    w = await world({
      users: ['alice'],
      provider: 'vendor',
      connect: true,
      servers: [{ name: 'web', grant: true }],
      env: { AUDIT_WEBHOOK_URL: rx.r.url, AUDIT_WEBHOOK_SECRET: SECRET },
      app: { auditSink: { everyMs: 50, settleMs: 50, backoffMs: 50, maxBackoffMs: 200 } },
    });
  });
  afterAll(async () => {
    await w?.stop();
    await rx?.stop();
  });

  const storedIds = async () =>
    (await w.app.store.rows(w.app.store.db.select().from(w.app.store.t.auditEvents))).map((e) => e.id);
  const run = async () => {
    const alice = w.as('alice');
    const from = alice.output.length;
    const started = Date.now();
    await alice.send('/onbehalf run web.whoami {}');
    await alice.waitFor(/fp:/, from);
    return Date.now() - started;
  };

  it('normal operation: each stored event arrives once, every request signed', async () => {
    await run();
    await run();
    const ids = await storedIds();
    await vi.waitFor(() => expect(new Set(rx.r.ids)).toEqual(new Set(ids)), wait);
    expect(rx.r.ids).toHaveLength(ids.length);
    expect(rx.r.badSignatures).toBe(0);
  });

  it('a receiver that was down gets the events once it is back', async () => {
    rx.r.mode = 'down';
    await run();
    await vi.waitFor(() => expect(rx.r.refused).toBeGreaterThanOrEqual(2), wait);
    const before = new Set(rx.r.ids);
    const missing = (await storedIds()).filter((id) => !before.has(id));
    expect(missing.length).toBeGreaterThan(0);
    rx.r.mode = 'up';
    await vi.waitFor(() => expect(rx.r.ids).toEqual(expect.arrayContaining(missing)), wait);
    expect(rx.r.badSignatures).toBe(0);
  });

  it('a hanging receiver does not slow tool calls', async () => {
    const baseline = await run();
    rx.r.mode = 'hang';
    await vi.waitFor(() => expect(rx.r.hanging).toBeGreaterThanOrEqual(1), wait);
    const slowest = Math.max(await run(), await run(), await run());
    // The sink is stuck on its request the whole time; calls take what they took before (with slack for load).
    expect(rx.r.hanging).toBe(1);
    expect(slowest).toBeLessThan(Math.max(2000, baseline * 5));
  });
});
