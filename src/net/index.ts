export { NetGuard, type NetGuardOptions, type Resolve } from './guard.js';
export { fetchDefaults, type FetchOptions, type GuardedFetch } from './fetch.js';
export { nonPublicReason, type AddressClass } from './address.js';
export { RefusedUrlError, upstreamDetail } from './errors.js';
export { refusalOf, type UrlCheck, type UrlRefusal } from './url.js';
