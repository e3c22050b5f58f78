/** How much each figure measures; `--quick` is a smoke run with few trials. */
export interface BenchOptions {
  quick: boolean;
  /** Slack ack: requests per second and seconds. Default 200 × 10 (quick: 100 × 2). */
  slackRate: number;
  slackSeconds: number;
  /** Tool call overhead: sequential calls each way. Default 500 (quick: 40). */
  overheadTrials: number;
  /** Throughput: calls per trial at concurrency 1 / at 16 and 64, and trials per setting. Default 150 / 500 × 3 (quick: 40 / 200 × 1). */
  throughputCallsSerial: number;
  throughputCalls: number;
  throughputTrials: number;
  /** Throughput: [worker processes, concurrency] settings. Default all of 1,2 × 1,16,64 (quick: 1×16, 2×64); `--settings=1x16,2x64` picks others. */
  throughputSettings: [number, number][];
  /** Refresh storm: concurrent calls and trials. Default 500 × 3 (quick: 100 × 1). */
  stormCalls: number;
  stormTrials: number;
  /** stdio pool: warm calls and cold spawns. Default 300 / 10 (quick: 30 / 2). */
  stdioWarm: number;
  stdioCold: number;
  /** Memory: calls through the serve process, then the calls its slope is measured up to. Default 10000 → 50000 (quick: 500 → 3000). */
  memoryCalls: number;
  memorySlopeCalls: number;
  /** Parked calls: calls parked (10 per user) and resumed, and seconds of idle CPU sampled each side. Default 10000 / 10 (quick: 200 / 3). */
  parkedCalls: number;
  parkedIdleSeconds: number;
  /** Refresh storm with 2-second tokens: seconds of back-to-back bursts. Default 10 (quick: 4). */
  shortTokenSeconds: number;
  /** Recovery: worker kills. Default 5 (quick: 1). */
  recoveryTrials: number;
  /** First visible sign: signed mentions per second and seconds. Default 20 × 10 (quick: 10 × 2). */
  firstSignRate: number;
  firstSignSeconds: number;
  /** `--cpu-prof=DIR`: worker and serve processes write V8 CPU profiles there. Default none. */
  cpuProfDir?: string;
}

/** Options for a full run, or the quick smoke run. */
export function benchOptions(quick: boolean): BenchOptions {
  return quick
    ? {
        quick,
        slackRate: 100,
        slackSeconds: 2,
        overheadTrials: 40,
        throughputCallsSerial: 40,
        throughputCalls: 200,
        throughputTrials: 1,
        throughputSettings: [
          [1, 16],
          [2, 64],
        ],
        stormCalls: 100,
        stormTrials: 1,
        stdioWarm: 30,
        stdioCold: 2,
        memoryCalls: 500,
        memorySlopeCalls: 3000,
        parkedCalls: 200,
        parkedIdleSeconds: 3,
        recoveryTrials: 1,
        shortTokenSeconds: 4,
        firstSignRate: 10,
        firstSignSeconds: 2,
      }
    : {
        quick,
        slackRate: 200,
        slackSeconds: 10,
        overheadTrials: 500,
        throughputCallsSerial: 150,
        throughputCalls: 500,
        throughputTrials: 3,
        throughputSettings: [
          [1, 1],
          [1, 16],
          [1, 64],
          [2, 1],
          [2, 16],
          [2, 64],
        ],
        stormCalls: 500,
        stormTrials: 3,
        stdioWarm: 300,
        stdioCold: 10,
        memoryCalls: 10_000,
        memorySlopeCalls: 50_000,
        parkedCalls: 10_000,
        parkedIdleSeconds: 10,
        recoveryTrials: 5,
        shortTokenSeconds: 10,
        firstSignRate: 20,
        firstSignSeconds: 10,
      };
}
