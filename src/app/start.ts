import type { Hono } from 'hono';
import { listen, type WebEnv } from '../web/index.js';
import type { Closers } from './closers.js';
import { firstAnswer, whenRedisReady, type AppRedis } from './redis.js';
import type { AppOptions, ServiceApp } from './types.js';
import type { WorkerSupervisor } from './workers.js';
import type { AuditSinkRunner } from './audit-sink.js';

/** What `start()` starts, built by the composition root. */
export interface Startables {
  redis: AppRedis;
  /** The web server of `serve`; absent in a worker. */
  web: Hono<WebEnv> | undefined;
  /** The tool-worker processes `serve` supervises; absent: the workers run in this process. */
  workers: WorkerSupervisor | undefined;
  closers: Closers;
  state: { stopping: boolean };
  opts: Pick<AppOptions, 'hostname' | 'runner' | 'shutdownGraceMs'>;
  /** Starts the agent's turn worker (after the tool workers). */
  startTurns: () => Promise<void>;
  /** `AUDIT_WEBHOOK_URL`: the audit sink of `serve`. */
  auditSink?: AuditSinkRunner | undefined;
}

/**
 * Starts a built app: its tool-worker processes, or the tool workers in this process once Redis
 * answers (Redis away never holds up HTTP); then in `serve` the web server and each platform, handed `app.chat`.
 */
export async function startServices(app: ServiceApp, s: Startables): Promise<void> {
  // Every process tries for the keep-alive sweep; one per period takes it (a key in Redis).
  app.oauth.keepAlive.start();
  s.closers.add(() => app.oauth.keepAlive.stop());
  if (s.workers) {
    const workers = s.workers;
    s.closers.add(() => workers.stop(s.opts.shutdownGraceMs ?? 10_000));
    workers.start();
    // As in-process workers wait: "listening" then means /readyz answers 200 when Redis is up.
    await firstAnswer(s.redis.redis, 2000);
  } else await startWorkers(app, s);
  if (!s.web) return;
  if (s.auditSink) {
    const sink = s.auditSink;
    s.closers.add(() => sink.stop());
    // Redis away: the lease keeps trying in the background, and the sink catches up once it holds it.
    await sink.start().catch((err: Error) => app.log.warn({ err: err.message }, 'audit sink not started yet'));
  }
  const { config, log } = app;
  if (!config.metricsToken && config.env === 'production')
    log.warn('METRICS_TOKEN is not set: /metrics is open to anyone who can reach this port');
  const server = await listen(s.web, config.port, s.opts.hostname);
  app.port = server.port;
  s.closers.add(() => server.close());
  log.info({ port: server.port, publicUrl: config.publicUrl }, 'onbehalf is listening');
  for (const platform of app.platforms) {
    s.closers.add(() => platform.stop());
    await platform.start(app.chat);
  }
}

/** Tool workers start when Redis is ready, and again after it comes back if they could not. */
async function startWorkers(app: ServiceApp, s: Startables): Promise<void> {
  const { log, mode, runner } = app;
  const want = s.opts.runner?.startWorkers !== false;
  let workers: 'waiting' | 'starting' | 'started' = 'waiting';
  await whenRedisReady(app.config, s.redis, log, async () => {
    if (!want || workers !== 'waiting' || s.state.stopping) return;
    workers = 'starting';
    try {
      await runner.startWorkers();
      await s.startTurns();
      workers = 'started';
      log.info({ mode }, 'tool workers started');
    } catch (err) {
      workers = 'waiting';
      log.warn({ err: (err as Error).message }, 'tool workers could not start; retrying when Redis is ready again');
    }
  });
}
