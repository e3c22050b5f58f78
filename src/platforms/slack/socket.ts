import { SocketModeReceiver } from '@slack/bolt';
import { WebClient } from '@slack/web-api';
import type { Secret } from '../../crypto/index.js';
import type { Logger } from '../../log.js';
import { slackLogger } from './logger.js';

/** Options of the Socket Mode receiver. */
export interface SlackSocketReceiverOptions {
  /** `SLACK_APP_TOKEN` (xapp-…), with the `connections:write` scope. */
  appToken: Secret;
  /** Web API base for `apps.connections.open` (`SLACK_API_URL`). Default Slack's. */
  apiUrl?: string;
  log: Logger;
}

/**
 * Bolt's SocketModeReceiver (`SLACK_APP_TOKEN` set: no public URL needed), logging to our logger,
 * with `apps.connections.open` sent to SLACK_API_URL (Bolt does not pass client options to its
 * socket client), and a failed listener left unacknowledged so Slack redelivers (`retry_attempt`).
 */
export class SlackSocketReceiver extends SocketModeReceiver {
  constructor(o: SlackSocketReceiverOptions) {
    super({
      appToken: o.appToken.reveal(),
      logger: slackLogger(o.log),
      processEventErrorHandler: async ({ error }) => {
        o.log.error(
          { err: error.message, code: (error as { code?: string }).code },
          'a Slack listener failed (Socket Mode); leaving it for Slack to redeliver',
        );
        return false;
      },
    });
    if (o.apiUrl) {
      (this.client as unknown as { webClient: WebClient }).webClient = new WebClient('', {
        slackApiUrl: o.apiUrl.replace(/\/?$/, '/'),
        logger: slackLogger(o.log),
        headers: { Authorization: `Bearer ${o.appToken.reveal()}` },
        retryConfig: { retries: 100, factor: 1.3 },
      });
    }
  }
}
