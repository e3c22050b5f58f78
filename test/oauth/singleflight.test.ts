import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { eq } from 'drizzle-orm';
import { childEnv } from '../support/cli.js';
import { oauthBed, type Bed } from './bed.js';

const worker = fileURLToPath(new URL('../support/oauth-token-worker.ts', import.meta.url));

function startWorker(env: Record<string, string>): {
  child: ChildProcess;
  ready: Promise<void>;
  result: Promise<{ kind: string; sha: string | null }[]>;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', worker], {
    env: childEnv(env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.startsWith('ready\n')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`worker exited ${code}: ${err}`)));
  });
  const result = new Promise<{ kind: string; sha: string | null }[]>((resolve, reject) => {
    child.on('exit', (code) => {
      const line = out.split('\n')[1];
      if (code === 0 && line) resolve(JSON.parse(line));
      else reject(new Error(`worker exited ${code}: ${err}`));
    });
  });
  return { child, ready, result };
}

describe('refresh is single flight across processes', () => {
  let bed: Bed;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    bed = await oauthBed({ server: { tokenDelayMs: 200 } });
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await bed?.stop();
  });

  it('2 OS processes × 50 concurrent callers on one expired connection: the provider sees 1 refresh and all 100 get the new token', async () => {
    await bed.connect();
    const row = (await bed.connection())!;
    await bed.store.changes(
      bed.store.db
        .update(bed.store.t.connectedAccounts)
        .set({ expiresAt: Date.now() - 1000 })
        .where(eq(bed.store.t.connectedAccounts.id, row.id)),
    );
    const before = bed.server.refreshRequests().length;
    const env = {
      DB: bed.t.app.config.postgresUrl ?? bed.t.app.config.databasePath,
      REDIS_URL: bed.t.app.redisUrl,
      KEYS: bed.t.app.config.keys!.join(','),
      ORG: bed.org.id,
      USER: bed.user.id,
      SLUG: 'vendor',
      N: '50',
    };
    const ws = [startWorker(env), startWorker(env)];
    children.push(...ws.map((w) => w.child));
    await Promise.all(ws.map((w) => w.ready));
    for (const w of ws) w.child.stdin!.write('go\n');
    const results = (await Promise.all(ws.map((w) => w.result))).flat();

    expect(bed.server.refreshRequests().length - before).toBe(1);
    expect(results).toHaveLength(100);
    const fresh = createHash('sha256').update(bed.server.issuedAccessTokens.at(-1)!).digest('hex');
    expect(results.every((r) => r.kind === 'ok' && r.sha === fresh)).toBe(true);
    expect((await bed.connection())!.version).toBe(row.version + 1);
  }, 60_000);
});
