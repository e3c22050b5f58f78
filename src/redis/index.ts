export {
  startPrivateRedis,
  runningPrivateRedisUrl,
  freePort,
  type PrivateRedis,
  type PrivateRedisOptions,
} from './private.js';
export {
  ingressConnection,
  workerConnection,
  checkEvictionPolicy,
  waitReady,
  maskRedisUrl,
  isConnectionError,
  RedisReachability,
} from './connect.js';
export { RedisStartError } from './errors.js';
export { RedisLock, HeldLock } from './lock.js';
export { RedisLease, LEASE_DEFAULTS, type LeaseOptions, type LeaseHolder } from './lease.js';
