import { identityKey } from '../identity/index.js';
import type { CommandContext } from './router.js';
import type { Ack } from './types.js';

/** The action id of the thumbs up / down under an answer (`OutMessage.feedback`). */
export const FEEDBACK_ACTION = 'feedback';

const VALUE = /^(up|down) ([\w.:-]{1,100})$/;

/**
 * A thumbs up / down on an answer, from whoever clicked it: one audit event (who, which turn, which
 * way) and the metric. The buttons show the choice themselves, so nothing is said back.
 */
export async function recordFeedback(ctx: CommandContext, value: string): Promise<Ack> {
  const m = VALUE.exec(value);
  if (!m) return { private: { text: 'That button is no longer valid.' } };
  const rating = m[1] as 'up' | 'down';
  const s = ctx.services;
  await s.audit.write({
    orgId: ctx.org.id,
    category: 'feedback',
    action: 'answer.feedback',
    actorUserId: ctx.user.id,
    chatIdentity: identityKey(ctx.identity),
    outcome: rating,
    requestId: m[2],
    detail: { turn: m[2], channel: ctx.target.channelId },
  });
  s.countFeedback?.(rating);
  return undefined;
}
