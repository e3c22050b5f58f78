import { createHash, timingSafeEqual } from 'node:crypto';
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { requestId } from 'hono/request-id';
import type { PlatformRoute, RouteEnv } from '../chat/platform.js';
import { CodedError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { assetsRouter } from './page.js';

/** Variables every handler can read from the context (platforms' routers see the same). */
export type WebEnv = RouteEnv;

/** PORT is taken by another process: one line naming PORT. */
export class PortInUseError extends CodedError {
  readonly code = 'port_in_use';
  constructor(readonly port: number) {
    super(
      `port ${port} is already in use (PORT=${port}): stop the process listening there, or set PORT to a free port`,
    );
  }
}

/** What `/readyz` asks: each check resolves when its dependency answers. */
export type ReadinessCheck = { name: string; check: () => Promise<void> };

export interface WebOptions {
  log: Logger;
  metrics: Metrics;
  readiness: ReadinessCheck[];
  /** Sub-routers mounted at their path (`/oauth`, a platform's `/slack` …). */
  routes?: PlatformRoute[];
  /** Per check, how long `/readyz` waits. Default 2000 ms. */
  readinessTimeoutMs?: number;
  /** `METRICS_TOKEN`: set, `/metrics` requires `Authorization: Bearer <token>`; unset (default), it is open. */
  metricsToken?: string | undefined;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Whether an Authorization header carries `Bearer <expected>`, compared in constant time. */
function bearerMatches(header: string | undefined, expected: string): boolean {
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? '');
  // Digests of equal length: the comparison time says nothing about the token or its length.
  return timingSafeEqual(digest(m?.[1] ?? ''), digest(expected)) && m !== null;
}

const withTimeout = <T>(p: Promise<T>, ms: number) =>
  Promise.race([
    p,
    // The rejection waits one turn for I/O: after an event-loop stall an answer already read wins over the timer.
    new Promise<never>((_, reject) =>
      setTimeout(() => setImmediate(() => reject(new Error(`no answer within ${ms} ms`))), ms).unref(),
    ),
  ]);

/** The HTTP app: health, readiness, metrics, and the mounted routers. */
export function createWeb(opts: WebOptions): Hono<WebEnv> {
  const app = new Hono<WebEnv>();
  app.use(requestId({ limitLength: 64 }));
  app.use(async (c, next) => {
    c.set('log', opts.log.child({ reqId: c.get('requestId') }));
    await next();
    const route = c.req.routePath || 'unmatched';
    opts.metrics.httpRequests.inc({ route, status: String(c.res.status) });
  });

  app.get('/healthz', (c) => c.json({ ok: true }));
  app.get('/readyz', async (c) => {
    const results = await Promise.all(
      opts.readiness.map(async (r) => {
        try {
          await withTimeout(r.check(), opts.readinessTimeoutMs ?? 2000);
          return [r.name, 'ok'] as const;
        } catch (err) {
          c.get('log').warn({ check: r.name, err: (err as Error).message }, 'readiness check failed');
          return [r.name, 'unavailable'] as const;
        }
      }),
    );
    const ok = results.every(([, s]) => s === 'ok');
    return c.json({ ok, checks: Object.fromEntries(results) }, ok ? 200 : 503);
  });
  app.get('/metrics', async (c) => {
    if (opts.metricsToken && !bearerMatches(c.req.header('authorization'), opts.metricsToken)) {
      c.header('WWW-Authenticate', 'Bearer realm="metrics"');
      return c.text('Unauthorized', 401);
    }
    c.header('Content-Type', opts.metrics.registry.contentType);
    return c.body(await opts.metrics.registry.metrics());
  });
  app.route('/assets', assetsRouter());
  for (const r of opts.routes ?? []) app.route(r.path, r.router);

  app.notFound((c) => c.text('Not found', 404));
  app.onError((err, c) => {
    c.get('log')?.error({ err }, 'request failed');
    return c.text('Something went wrong on our side. Please try again.', 500);
  });
  return app;
}

/** Starts listening; resolves with the server and the bound port once it accepts connections (`PortInUseError` if taken). */
export function listen(
  app: Hono<WebEnv>,
  port: number,
  hostname = '0.0.0.0',
): Promise<{ server: ServerType; port: number; close(): Promise<void> }> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port, hostname }, (info) =>
      resolve({
        server,
        port: info.port,
        close: () =>
          new Promise<void>((res) => {
            server.close(() => res());
            if ('closeAllConnections' in server) server.closeAllConnections();
          }),
      }),
    );
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new PortInUseError(port) : err),
    );
  });
}
