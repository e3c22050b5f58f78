import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv } from '../support/cli.js';
import type { TestMcpHttpServer } from '../support/mcp-servers/index.js';
import { queuesIdle } from '../support/queues.js';
import { startTestRedis } from '../support/redis.js';
import { startRogueMcpServer, type RogueMcpServer } from '../support/rogue-mcp.js';
import { faultBed, until, type FaultBed } from './bed.js';

/** The test MCP server in a child process: its URL and the tool calls it reported so far. */
function startMcpChild(): Promise<{
  child: ChildProcess;
  url: string;
  calls: () => string[];
  exited: Promise<unknown>;
}> {
  const script = fileURLToPath(new URL('./fixtures/mcp-child.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    env: childEnv({}),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((r) => child.once('exit', r));
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`mcp child not ready:\n${out}`)), 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      const url = out.match(/^url (\S+)$/m)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve({ child, url, exited, calls: () => [...out.matchAll(/^call (\S+)$/gm)].map((m) => m[1]!) });
      }
    });
  });
}

describe('MCP servers that die, hang or answer garbage', () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  let good: TestMcpHttpServer;
  let bed: FaultBed;
  const rogues: RogueMcpServer[] = [];
  let victim: Awaited<ReturnType<typeof startMcpChild>>;
  const outcomeOf = async (requestId: string, ms: number) => {
    await until(() => bed.noticesFor(requestId).length > 0, ms, `an answer to ${requestId}`);
    const [n] = bed.noticesFor(requestId);
    if (n?.kind !== 'outcome') throw new Error(`expected an outcome for ${requestId}`);
    return n;
  };

  beforeAll(async () => {
    redis = await startTestRedis();
    victim = await startMcpChild();
    bed = await faultBed({ REDIS_URL: redis.url });
    good = bed.mcp;
    const org = await bed.orgId();
    const add = async (name: string, url: string, timeoutMs = 30_000) =>
      expect((await bed.app.policy.addServer(org, { name, transport: 'http', url, timeoutMs })).ok).toBe(true);
    await add('good', good.url);
    await add('victim', victim.url);
    for (const mode of ['hang', 'garbage', 'not-jsonrpc', 'wrong-result'] as const) {
      const r = await startRogueMcpServer(mode);
      rogues.push(r);
      await add(mode, r.url, 2000);
    }
  });

  afterAll(async () => {
    await bed?.stop();
    victim?.child.kill('SIGKILL');
    for (const r of rogues) await r.stop();
    await redis?.stop();
  });

  it('a server SIGKILLed mid-call: the caller is told it could not be reached, a read-only call too after its retries', async () => {
    const note = await bed.send('alice', 'run victim.create_note {"text":"pay invoice 7","delayMs":5000}');
    const read = await bed.send('bob', 'run victim.read_notes {"delayMs":5000}');
    expect([note.ok, read.ok]).toEqual([true, true]);
    await until(
      () => victim.calls().includes('create_note') && victim.calls().includes('read_notes'),
      15_000,
      'both calls to reach the server',
    );
    victim.child.kill('SIGKILL');
    await victim.exited;
    const started = Date.now();
    const [n1, n2] = [await outcomeOf(note.requestId, 20_000), await outcomeOf(read.requestId, 20_000)];
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(n1.outcome).toMatchObject({ kind: 'unreachable', server: 'victim' });
    expect(n1.text).toMatch(/`victim\.create_note` failed: the server victim could not be reached/);
    expect(n2.outcome).toMatchObject({ kind: 'unreachable', server: 'victim' });
    expect(n2.text).toMatch(/could not be reached .*Try again later/);
  });

  it('hung, invalid JSON, non-JSON-RPC and wrong-shaped answers each give the caller one clear outcome', async () => {
    const sent = await Promise.all(
      ['hang', 'garbage', 'not-jsonrpc', 'wrong-result'].map((m) => bed.send('alice', `run ${m}.echo {"text":"x"}`)),
    );
    expect(sent.every((s) => s.ok)).toBe(true);
    const [hang, garbage, notRpc, wrong] = await Promise.all(sent.map((s) => outcomeOf(s.requestId, 30_000)));
    expect(hang!.text).toMatch(/`hang\.echo` timed out/);
    for (const [n, server] of [
      [garbage, 'garbage'],
      [notRpc, 'not-jsonrpc'],
      [wrong, 'wrong-result'],
    ] as const) {
      expect(n!.outcome.kind, n!.text).toMatch(/^(unreachable|failed)$/);
      expect(n!.text).toMatch(new RegExp(`\`${server}\\.echo\` failed`));
      // The server's own bytes are never relayed to the caller.
      expect(n!.text).not.toMatch(/hello|protocolVer|answer/);
    }
    await queuesIdle(redis.url, 500);
    for (const s of sent) expect(bed.noticesFor(s.requestId)).toHaveLength(1);
  });

  it('the workers live on: a later call to a healthy server succeeds, and nothing crashed or went unhandled', async () => {
    const ok = await bed.send('alice', 'run good.echo {"text":"still alive"}');
    const n = await outcomeOf(ok.requestId, 10_000);
    expect(n.outcome).toMatchObject({ kind: 'result', isError: false });
    expect(n.text).toContain('still alive');
    expect(bed.t.logs.lines.filter((l) => /unhandled|uncaught/i.test(l))).toEqual([]);
    expect((await bed.rows()).filter((r) => r.status === 'queued' || r.status === 'running')).toEqual([]);
  });
});
