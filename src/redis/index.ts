export { startPrivateRedis, freePort, type PrivateRedis, type PrivateRedisOptions } from './private.js';
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
