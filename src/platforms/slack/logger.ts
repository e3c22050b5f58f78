import { LogLevel, type Logger as SlackLogger } from '@slack/web-api';
import type { Logger } from '../../log.js';

// The SDKs log request bodies as strings at debug level (only `token` masked; `client_secret`,
// `code` and message text go through): never forward those, and mask credential-looking pairs anywhere.
const BODY_LINE = /^http (request|response) (body|headers)/;
const CREDENTIAL_PAIR =
  /("?(?:[a-z_]*token|client_secret|code|secret|authorization|value)"?\s*[:=]\s*)("[^"]*"|[^\s,&}]+)/gi;
const XOX = /\bxox[a-z]-[A-Za-z0-9-]+|\bxapp-[A-Za-z0-9-]+/g;

/** Bolt's and the Web API client's logger interface, writing to our pino logger with SDK body dumps dropped and credentials masked. */
export function slackLogger(log: Logger): SlackLogger {
  const l = log.child({ component: 'slack-sdk' });
  const line = (msg: unknown[]) =>
    msg
      .map((m) => (typeof m === 'string' ? m : m instanceof Error ? m.message : JSON.stringify(m)))
      .join(' ')
      .replace(CREDENTIAL_PAIR, '$1[redacted]')
      .replace(XOX, '[redacted]');
  return {
    debug: (...m) => {
      if (typeof m[0] === 'string' && BODY_LINE.test(m[0])) return;
      l.debug(line(m));
    },
    info: (...m) => l.info(line(m)),
    warn: (...m) => l.warn(line(m)),
    error: (...m) => l.error(line(m)),
    setLevel: () => {},
    getLevel: () => LogLevel.INFO,
    setName: () => {},
  };
}
