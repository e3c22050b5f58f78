import { spawn, type ChildProcess } from 'node:child_process';
import { setPriority } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../log.js';

/** The product's own entry (`onbehalf`): a supervised worker runs exactly what `onbehalf worker` runs. */
const ENTRY = fileURLToPath(new URL('../../bin/onbehalf.js', import.meta.url));

/** First wait before a worker process that died is started again, doubled per quick death. */
const RESTART_FIRST_MS = 500;
/** Longest wait between restarts. */
const RESTART_MAX_MS = 30_000;
/** A process that ran this long before dying starts its replacement at the first wait again. */
const HEALTHY_AFTER_MS = 60_000;
/**
 * Niceness of the worker processes: when tool work wants more CPU than the machine has, the
 * kernel runs `serve` first (weight 1024 against 110), so an ack waits for a core no longer than
 * a time slice; tool calls still get every cycle `serve` leaves idle. On 2 loaded cores (bench
 * figure 1b) niceness 10 gave ack p99 73–111 ms, max 97–198 ms under tool load; 5 gave p99
 * 102–444 ms. (Raising niceness needs no privilege.)
 */
const WORKER_NICENESS = 10;

/** What the supervisor starts its processes with. */
export interface WorkerSupervisorOptions {
  /** How many `onbehalf worker` processes run at once. */
  count: number;
  /** Their whole environment: the variables `serve` was configured with, plus its Redis URL. */
  env: Record<string, string>;
  log: Logger;
  /** Where their log lines go (one JSON line each, as `serve`'s own). */
  output: { write(line: string): unknown };
}

interface Slot {
  child: ChildProcess | undefined;
  startedAt: number;
  restartMs: number;
  timer: NodeJS.Timeout | undefined;
  exited: Promise<void>;
}

/**
 * The tool-worker processes of `serve`: started at `start()`, each restarted when it dies (with
 * backoff), each stopped by its own pid at `stop()` (SIGTERM, SIGKILL past the grace period). A
 * call a dead worker was running is recovered by the others through the queue's stalled check.
 */
export class WorkerSupervisor {
  readonly #slots: Slot[] = [];
  #stopping = false;

  constructor(private readonly o: WorkerSupervisorOptions) {}

  /** The pids of the worker processes running now. */
  pids(): number[] {
    return this.#slots.flatMap((s) => (s.child?.pid && s.child.exitCode === null ? [s.child.pid] : []));
  }

  start(): void {
    for (let i = 0; i < this.o.count; i++) {
      const slot: Slot = {
        child: undefined,
        startedAt: 0,
        restartMs: RESTART_FIRST_MS,
        timer: undefined,
        exited: Promise.resolve(),
      };
      this.#slots.push(slot);
      this.#spawn(slot);
    }
    this.o.log.info({ workers: this.o.count, pids: this.pids() }, 'tool worker processes started');
  }

  #spawn(slot: Slot): void {
    slot.timer = undefined;
    if (this.#stopping) return;
    // Its own process group: a Ctrl-C in the terminal reaches `serve` alone, which stops it by pid in
    // order; the IPC channel closing (serve gone, even by SIGKILL) stops it too.
    const child = spawn(process.execPath, [ENTRY, 'worker'], {
      env: this.o.env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      detached: true,
    });
    slot.child = child;
    slot.startedAt = Date.now();
    try {
      if (child.pid) setPriority(child.pid, WORKER_NICENESS);
    } catch {
      // Already gone: its exit is reported below.
    }
    for (const stream of [child.stdout!, child.stderr!])
      createInterface({ input: stream }).on('line', (line) => this.o.output.write(line + '\n'));
    slot.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => resolve(this.#exited(slot, code, signal)));
      // Not started at all (no 'exit' follows): tried again like one that died.
      child.once('error', (err) => {
        this.o.log.warn({ err: err.message }, 'a tool worker process could not be started');
        if (child.pid === undefined) resolve(this.#exited(slot, null, null));
      });
    });
  }

  #exited(slot: Slot, code: number | null, signal: NodeJS.Signals | null): void {
    const pid = slot.child?.pid;
    slot.child = undefined;
    if (this.#stopping) return;
    if (Date.now() - slot.startedAt >= HEALTHY_AFTER_MS) slot.restartMs = RESTART_FIRST_MS;
    const wait = slot.restartMs;
    slot.restartMs = Math.min(RESTART_MAX_MS, slot.restartMs * 2);
    this.o.log.warn({ pid, code, signal, restartInMs: wait }, 'a tool worker process exited; starting another');
    slot.timer = setTimeout(() => this.#spawn(slot), wait);
  }

  /** Stops every worker process by its pid, letting running calls finish for `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    await Promise.all(
      this.#slots.splice(0).map(async (slot) => {
        clearTimeout(slot.timer);
        const child = slot.child;
        if (!child || child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await slot.exited;
        clearTimeout(kill);
      }),
    );
  }
}
