export { NetGuard, type NetGuardOptions, type Resolve } from './guard.js';
export { fetchDefaults, type FetchOptions, type GuardedFetch } from './fetch.js';
export { nonPublicReason } from './address.js';
export { RefusedUrlError } from './errors.js';
export { refusalOf, type UrlCheck, type UrlRefusal } from './url.js';
