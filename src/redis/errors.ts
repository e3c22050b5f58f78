/** The private redis-server could not be started. */
export class RedisStartError extends Error {
  readonly code = 'redis_start_failed';
}
