import { CodedError } from '../errors.js';
/** The private redis-server could not be started. */
export class RedisStartError extends CodedError {
  readonly code = 'redis_start_failed';
}
