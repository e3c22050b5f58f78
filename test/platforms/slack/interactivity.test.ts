import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { Secret } from '../../../src/crypto/index.js';
import type { Inbound } from '../../../src/chat/types.js';
import { startSlackBed, type SlackBed } from './harness.js';

let h: SlackBed;
beforeAll(async () => {
  h = await startSlackBed({}, { answerDeadlineMs: 500 });
});
afterAll(async () => {
  await h?.stop();
});
beforeEach(() => {
  h.inbound.events.length = 0;
  h.inbound.answer = async () => undefined;
  h.slack.calls.length = 0;
});

const command = (text: string, triggerId = `trig-${Date.now()}`) =>
  h.signer.command({ teamId: 'T1', userId: 'UADMIN', channelId: 'CGENERAL', text, triggerId });

type View = {
  callback_id: string;
  private_metadata: string;
  blocks: { type: string; block_id?: string; element?: { type: string; action_id: string } }[];
};

const submission = (view: View, value: string, userId = 'UADMIN') =>
  h.signer.formSubmission(view, value, { teamId: 'T1', userId, triggerId: 'trig-submit' });

describe('Slack interactivity', () => {
  it('/onbehalf <text> becomes a command; an answer ready in time is the ephemeral ack itself', async () => {
    h.inbound.answer = async () => ({ private: { text: 'You are Alice (member).' } });
    const res = await h.signer.post(h.eventsUrl, command('whoami', 'trig-1'));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toMatchObject({ response_type: 'ephemeral', text: 'You are Alice (member).' });
    expect(h.inbound.events[0]).toMatchObject({
      kind: 'command',
      text: 'whoami',
      triggerId: 'trig-1',
      identity: { workspaceId: 'T1', userId: 'UADMIN' },
      target: { channelId: 'CGENERAL', isDirect: false },
    });
    // Nothing went through the Web API but the lookups of the caller's names.
    expect(h.slack.calls.filter((c) => c.method !== 'users.info' && c.method !== 'team.info')).toHaveLength(0);
  });

  it('a slow answer is acked empty at the answer deadline (well inside 3 s) and then sent privately through the Web API', async () => {
    h.inbound.answer = () => new Promise((r) => setTimeout(() => r({ private: { text: 'took a while' } }), 1200));
    const res = await h.signer.post(h.eventsUrl, command('tools'));
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    expect(res.ms).toBeLessThan(1000);
    const call = await h.slack.waitFor('chat.postEphemeral');
    expect(call.body).toMatchObject({ user: 'UADMIN', channel: 'CGENERAL', text: 'took a while' });
  });

  it('a command that asks for a secret opens a modal; its submission reaches the core as Secret values and never leaks', async () => {
    const canary = 'sk-canary-org-secret-91f3e2';
    h.inbound.answer = async (e: Inbound) =>
      e.kind === 'form_submit'
        ? { private: { text: 'Stored org secret key.' } }
        : {
            form: {
              formId: 'secret:org:-:key',
              title: 'Org secret "key"',
              fields: [{ id: 'value', label: 'Value of key' }],
            },
          };
    const res = await h.signer.post(h.eventsUrl, command('admin secret set org key', 'trig-form'));
    expect(res.status).toBe(200);
    const open = await h.slack.waitFor('views.open');
    expect(open.body['trigger_id']).toBe('trig-form');
    const view = open.body['view'] as View;
    expect(view.blocks.find((b) => b.type === 'input')).toMatchObject({
      block_id: 'value',
      element: { type: 'plain_text_input', action_id: 'value' },
    });

    const sub = await h.signer.post(h.eventsUrl, submission(view, canary));
    expect(sub.status).toBe(200);
    expect(JSON.parse(sub.text)).toMatchObject({
      response_action: 'update',
      view: { blocks: [{ text: { text: 'Stored org secret key.' } }] },
    });
    const submitted = h.inbound.events.find((e) => e.kind === 'form_submit');
    expect(submitted).toMatchObject({
      formId: 'secret:org:-:key',
      target: { channelId: 'CGENERAL' },
      identity: { userId: 'UADMIN' },
    });
    const value = (submitted as Extract<Inbound, { kind: 'form_submit' }>).values['value'];
    expect(value).toBeInstanceOf(Secret);
    expect(value!.reveal()).toBe(canary);
    expect(String(value)).toBe('[redacted]');
    expect(h.slack.containing(canary)).toEqual([]);
    expect(h.logs.containing(canary)).toEqual([]);
  });

  it('a submission the core cannot take shows an error in the modal instead of closing it', async () => {
    h.inbound.answer = async () => {
      throw new Error('database is locked');
    };
    const view = {
      callback_id: 'onbehalf_form',
      private_metadata: JSON.stringify({ formId: 'secret:org:-:k', channelId: 'C1', isDirect: false }),
      blocks: [],
    };
    const res = await h.signer.post(h.eventsUrl, submission(view, 'whatever'));
    expect(JSON.parse(res.text)).toMatchObject({
      response_action: 'errors',
      errors: { value: expect.stringContaining('Not saved') },
    });
  });

  it('a button carrying a command is a button event for the person who clicked; its answer is ephemeral', async () => {
    h.inbound.answer = async () => ({ private: { text: 'Disconnected github.' } });
    const res = await h.signer.post(
      h.eventsUrl,
      h.signer.interaction({
        type: 'block_actions',
        team: { id: 'T1' },
        user: { id: 'UBOB', team_id: 'T1' },
        trigger_id: 'trig-btn',
        channel: { id: 'CGENERAL' },
        container: { type: 'message', message_ts: '1700000001.000100', channel_id: 'CGENERAL' },
        message: { ts: '1700000001.000100', thread_ts: '1700000000.000100' },
        actions: [{ action_id: 'command', value: 'disconnect github', type: 'button', action_ts: '1' }],
      }),
    );
    expect(res.status).toBe(200);
    await vi.waitFor(() =>
      expect(h.inbound.events[0]).toMatchObject({
        kind: 'button',
        actionId: 'command',
        value: 'disconnect github',
        identity: { userId: 'UBOB' },
        target: { threadId: '1700000000.000100' },
      }),
    );
    expect((await h.slack.waitFor('chat.postEphemeral')).body).toMatchObject({
      user: 'UBOB',
      thread_ts: '1700000000.000100',
      text: 'Disconnected github.',
    });
  });

  it('a click on a link button is acknowledged and goes nowhere', async () => {
    const res = await h.signer.post(
      h.eventsUrl,
      h.signer.interaction({
        type: 'block_actions',
        team: { id: 'T1' },
        user: { id: 'UBOB' },
        channel: { id: 'C1' },
        actions: [{ action_id: 'link', type: 'button', action_ts: '1' }],
      }),
    );
    expect(res.status).toBe(200);
    expect(h.inbound.events).toHaveLength(0);
  });
});
