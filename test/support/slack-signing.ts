import { createHmac } from 'node:crypto';

/** A request as Slack would send it to `POST /slack/events`. */
export interface SignedRequest {
  body: string;
  headers: Record<string, string>;
}

export interface SignOptions {
  /** Unix seconds in `X-Slack-Request-Timestamp`. Default now. */
  timestamp?: number;
  /** Signature version prefix. Default `v0`. */
  version?: string;
  /** Sign with this secret instead (a wrong secret makes a bad signature). */
  secret?: string;
  /** Signed over this body while `body` is sent (a body changed after signing). */
  signedBody?: string;
  /** Headers to leave out (e.g. `x-slack-signature`). */
  omit?: ('x-slack-signature' | 'x-slack-request-timestamp')[];
  /** `X-Slack-Retry-Num` / `X-Slack-Retry-Reason`, as Slack adds on redelivery. */
  retryNum?: number;
  retryReason?: string;
}

const contentTypes = { json: 'application/json', form: 'application/x-www-form-urlencoded' } as const;

/**
 * Builds Slack-signed requests (`v0=` HMAC-SHA256 over `v0:ts:body`), correctly or, through
 * `SignOptions`, incorrectly: wrong secret, other version, old timestamp, changed body, missing header.
 */
export class SlackSigner {
  constructor(readonly signingSecret: string) {}

  /** Signs a raw body of the given kind. */
  sign(body: string, kind: keyof typeof contentTypes, o: SignOptions = {}): SignedRequest {
    const ts = o.timestamp ?? Math.floor(Date.now() / 1000);
    const version = o.version ?? 'v0';
    const mac = createHmac('sha256', o.secret ?? this.signingSecret)
      .update(`${version}:${ts}:${o.signedBody ?? body}`)
      .digest('hex');
    const headers: Record<string, string> = {
      'content-type': contentTypes[kind],
      'x-slack-signature': `${version}=${mac}`,
      'x-slack-request-timestamp': String(ts),
    };
    for (const h of o.omit ?? []) delete headers[h];
    if (o.retryNum !== undefined) {
      headers['x-slack-retry-num'] = String(o.retryNum);
      headers['x-slack-retry-reason'] = o.retryReason ?? 'http_timeout';
    }
    return { body, headers };
  }

  /** An Events API delivery (`event_callback`). */
  event(event: Record<string, unknown>, meta: { teamId: string; eventId: string }, o?: SignOptions): SignedRequest {
    const body = JSON.stringify({
      token: 'deprecated',
      team_id: meta.teamId,
      api_app_id: 'A_FAKE',
      type: 'event_callback',
      event_id: meta.eventId,
      event_time: Math.floor(Date.now() / 1000),
      event,
    });
    return this.sign(body, 'json', o);
  }

  /** A slash command (form-encoded). */
  command(
    fields: {
      teamId: string;
      userId: string;
      channelId: string;
      text: string;
      command?: string;
      triggerId?: string;
      userName?: string;
      responseUrl?: string;
    },
    o?: SignOptions,
  ): SignedRequest {
    const params = new URLSearchParams({
      token: 'deprecated',
      team_id: fields.teamId,
      team_domain: 'fake',
      channel_id: fields.channelId,
      channel_name: 'general',
      user_id: fields.userId,
      user_name: fields.userName ?? fields.userId,
      command: fields.command ?? '/onbehalf',
      text: fields.text,
      api_app_id: 'A_FAKE',
      response_url: fields.responseUrl ?? 'https://hooks.slack.invalid/commands/1',
      trigger_id: fields.triggerId ?? `trig.${Date.now()}`,
    });
    return this.sign(params.toString(), 'form', o);
  }

  /** An interactivity payload (block_actions, view_submission …) as `payload=<json>`. */
  interaction(payload: Record<string, unknown>, o?: SignOptions): SignedRequest {
    return this.sign(new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), 'form', o);
  }

  /** The person submitting a one-field secret form (`value`) opened as `view` (from the recorded `views.open`). */
  formSubmission(
    view: { callback_id: string; private_metadata: string },
    value: string,
    who: { teamId: string; userId: string; triggerId?: string },
    o?: SignOptions,
  ): SignedRequest {
    return this.interaction(
      {
        type: 'view_submission',
        team: { id: who.teamId },
        user: { id: who.userId, team_id: who.teamId },
        ...(who.triggerId ? { trigger_id: who.triggerId } : {}),
        view: {
          id: 'V1',
          callback_id: view.callback_id,
          private_metadata: view.private_metadata,
          state: { values: { value: { value: { type: 'plain_text_input', value } } } },
        },
      },
      o,
    );
  }

  /**
   * The person submitting a form a tool asked for, opened as `view` (from the recorded
   * `views.open`): each of `typed` in a text input, each of `picked` chosen in a select.
   */
  elicitSubmission(
    view: { id: string; callback_id: string; private_metadata: string },
    fields: { typed: Record<string, string>; picked: Record<string, string> },
    who: { teamId: string; userId: string },
    o?: SignOptions,
  ): SignedRequest {
    const input = (v: string) => ({ value: { type: 'plain_text_input', value: v } });
    const select = (v: string) => ({ value: { type: 'static_select', selected_option: { value: v } } });
    return this.interaction(
      {
        type: 'view_submission',
        team: { id: who.teamId },
        user: { id: who.userId, team_id: who.teamId },
        view: {
          ...view,
          state: {
            values: {
              ...Object.fromEntries(Object.entries(fields.typed).map(([k, v]) => [k, input(v)])),
              ...Object.fromEntries(Object.entries(fields.picked).map(([k, v]) => [k, select(v)])),
            },
          },
        },
      },
      o,
    );
  }

  /** Sends a signed request to `url`; returns status, body text and elapsed ms. */
  async post(url: string, req: SignedRequest): Promise<{ status: number; text: string; ms: number }> {
    const t0 = performance.now();
    const res = await fetch(url, { method: 'POST', headers: req.headers, body: req.body });
    const text = await res.text();
    return { status: res.status, text, ms: performance.now() - t0 };
  }
}
