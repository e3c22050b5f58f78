/**
 * A second OS process for the single-flight test: builds the real token service against the same
 * database (DB: a SQLite file path or a postgres:// URL) and Redis as the test (env: DB, REDIS_URL,
 * KEYS, ORG, USER, SLUG, N), prints `ready`, waits for `go` on stdin, runs N concurrent
 * `accessTokenFor`, prints one JSON line of `{kind, sha}` results (sha256 of each token, never the
 * token) and exits.
 */
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { AuditLog } from '../../src/audit/index.js';
import { Keyring, LinkSigner } from '../../src/crypto/index.js';
import { openDb, sqliteStore } from '../../src/db/index.js';
import { pgStore } from '../../src/db/pg/index.js';
import { createLogger } from '../../src/log.js';
import { NetGuard } from '../../src/net/index.js';
import { OAuthService } from '../../src/oauth/index.js';

const env = (k: string) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is required`);
  return v;
};
const store = env('DB').startsWith('postgres') ? pgStore(env('DB'), { max: 4 }) : sqliteStore(openDb(env('DB')));
const keyring = new Keyring(env('KEYS').split(','));
const redis = new Redis(env('REDIS_URL'), { maxRetriesPerRequest: 3 });
const oauth = new OAuthService({
  store,
  keyring,
  links: new LinkSigner(keyring),
  redis,
  audit: new AuditLog(store),
  log: createLogger('silent'),
  publicUrl: 'http://127.0.0.1:1',
  net: new NetGuard({ allowPrivate: true }),
});
const n = Number(env('N'));
process.stdout.write('ready\n');
const rl = createInterface({ input: process.stdin });
rl.on('line', async (line) => {
  if (line.trim() !== 'go') return;
  const results = await Promise.all(
    Array.from({ length: n }, () => oauth.accessTokenFor(env('ORG'), env('USER'), env('SLUG'))),
  );
  const out = results.map((r) => ({
    kind: r.kind,
    sha: r.kind === 'ok' ? createHash('sha256').update(r.token.reveal()).digest('hex') : null,
  }));
  process.stdout.write(JSON.stringify(out) + '\n');
  rl.close();
  await redis.quit();
  await store.close();
});
