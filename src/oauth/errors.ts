export { RefusedUrlError } from '../net/index.js';
