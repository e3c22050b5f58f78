import { describe, expect, it } from 'vitest';
import { verifySlackRequest } from '../../../src/platforms/slack/index.js';
import { SlackSigner } from '../../support/slack-signing.js';

const secret = 'signing-secret-for-tests';
const signer = new SlackSigner(secret);
const body = JSON.stringify({ type: 'event_callback', event_id: 'Ev1' });

function check(o: Parameters<SlackSigner['sign']>[2] = {}, sent = body) {
  const req = signer.sign(sent, 'json', o);
  return verifySlackRequest({
    signingSecret: secret,
    rawBody: req.body,
    signature: req.headers['x-slack-signature'],
    timestamp: req.headers['x-slack-request-timestamp'],
  });
}

describe('Slack request verification', () => {
  it('accepts a request signed with the signing secret', () => {
    expect(check()).toEqual({ ok: true });
  });
  it('refuses a signature made with another secret', () => {
    expect(check({ secret: 'someone-elses-secret' })).toEqual({ ok: false, reason: 'bad_signature' });
  });
  it('refuses a body changed after signing', () => {
    expect(check({ signedBody: body }, body.replace('Ev1', 'Ev2'))).toEqual({ ok: false, reason: 'bad_signature' });
  });
  it('refuses a timestamp older than 5 minutes, and one from the future', () => {
    const now = Math.floor(Date.now() / 1000);
    expect(check({ timestamp: now - 301 })).toEqual({ ok: false, reason: 'stale_timestamp' });
    expect(check({ timestamp: now + 301 })).toEqual({ ok: false, reason: 'stale_timestamp' });
    expect(check({ timestamp: now - 290 })).toEqual({ ok: true });
  });
  it('refuses a version other than v0', () => {
    expect(check({ version: 'v1' })).toEqual({ ok: false, reason: 'bad_version' });
  });
  it('refuses a request missing either header', () => {
    expect(check({ omit: ['x-slack-signature'] })).toEqual({ ok: false, reason: 'missing_headers' });
    expect(check({ omit: ['x-slack-request-timestamp'] })).toEqual({ ok: false, reason: 'missing_headers' });
  });
  it('refuses a malformed timestamp or a truncated signature', () => {
    const req = signer.sign(body, 'json');
    expect(
      verifySlackRequest({
        signingSecret: secret,
        rawBody: body,
        signature: req.headers['x-slack-signature'],
        timestamp: 'abc',
      }),
    ).toEqual({ ok: false, reason: 'bad_timestamp' });
    expect(
      verifySlackRequest({
        signingSecret: secret,
        rawBody: body,
        signature: req.headers['x-slack-signature']!.slice(0, 40),
        timestamp: req.headers['x-slack-request-timestamp'],
      }),
    ).toEqual({ ok: false, reason: 'bad_signature' });
  });
});
