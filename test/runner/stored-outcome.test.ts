import { describe, expect, it } from 'vitest';
import { outcomeText } from '../../src/chat/outcomes.js';
import { toolOutcomeSchema } from '../../src/runner/index.js';

// Reasons are stored as coded values and worded by chat/; a row written before that holds the
// sentence itself, and the caller must still read exactly that sentence.
describe('a stored outcome', () => {
  const call = { server: 'gh', tool: 'list_issues' };

  it('is worded from its code', () => {
    const o = toolOutcomeSchema.parse({ kind: 'failed', why: { code: 'park_cap', provider: 'github', max: 20 } });
    expect(outcomeText(call, o)).toBe(
      '`gh.list_issues` failed: you already have 20 calls waiting for an account to be connected; connect github (`/onbehalf connect github`) or let the waiting calls finish, then run it again.',
    );
  });

  it('written as a sentence by an earlier version still reads as that sentence', () => {
    const denied = toolOutcomeSchema.parse({
      kind: 'denied',
      rule: 'deny gh "*"',
      reason: 'denied by rule: deny gh "*"',
    });
    expect(outcomeText(call, denied)).toBe('`gh.list_issues` was not run: denied by rule: deny gh "*".');
    const failed = toolOutcomeSchema.parse({ kind: 'failed', message: 'that server was removed' });
    expect(outcomeText(call, failed)).toBe('`gh.list_issues` failed: that server was removed.');
    const cancelled = toolOutcomeSchema.parse({ kind: 'cancelled', reason: 'the user no longer exists' });
    expect(outcomeText(call, cancelled)).toBe('`gh.list_issues` was cancelled: the user no longer exists.');
  });

  it('a refused address and a failed MCP authorization are worded from their codes, and earlier phrases still read', () => {
    const refused = toolOutcomeSchema.parse({
      kind: 'failed',
      why: {
        code: 'refused_url',
        server: 'gh',
        refusal: { code: 'private', host: '127.0.0.1:9', class: 'loopback' },
        setting: true,
      },
    });
    expect(outcomeText(call, refused)).toBe(
      '`gh.list_issues` failed: gh: 127.0.0.1:9 is a loopback, private or link-local address (loopback), which is not allowed (ONBEHALF_ALLOW_PRIVATE_URLS).',
    );
    const old = toolOutcomeSchema.parse({
      kind: 'failed',
      why: {
        code: 'refused_url',
        reason: 'gh: 10.0.0.1 is a loopback, private or link-local address (private)',
        setting: false,
      },
    });
    expect(outcomeText(call, old)).toBe(
      '`gh.list_issues` failed: gh: 10.0.0.1 is a loopback, private or link-local address (private), which is not allowed.',
    );
    const auth = toolOutcomeSchema.parse({
      kind: 'failed',
      why: {
        code: 'mcp_auth_failed',
        server: 'gh',
        kind: 'discovery_failed',
        failure: { kind: 'discovery_failed', cause: 'other_resource', detail: 'https://elsewhere.example/mcp' },
      },
    });
    expect(outcomeText(call, auth)).toBe(
      '`gh.list_issues` failed: gh: MCP authorization failed (discovery failed: the protected resource metadata names https://elsewhere.example/mcp, not this server).',
    );
  });

  it("an unreachable server's code and a refused address's class are worded, and earlier phrases still read", () => {
    const unreachable = (detail: string) =>
      outcomeText(call, toolOutcomeSchema.parse({ kind: 'unreachable', server: 'gh', detail }));
    for (const [code, words] of [
      ['connection_closed', 'connection closed'],
      ['connection closed', 'connection closed'],
      ['transport_error', 'transport error'],
      ['protocol_error', 'protocol error'],
      ['ECONNREFUSED', 'ECONNREFUSED'],
      ['HTTP 503', 'HTTP 503'],
    ])
      expect(unreachable(code!)).toBe(
        `\`gh.list_issues\` failed: the server gh could not be reached (${words}). Try again later.`,
      );
    const refused = (c: string) =>
      outcomeText(
        call,
        toolOutcomeSchema.parse({
          kind: 'failed',
          why: { code: 'refused_url', server: 'gh', refusal: { code: 'private', host: 'h', class: c }, setting: false },
        }),
      );
    expect(refused('nat64:private')).toBe(
      '`gh.list_issues` failed: gh: h is a loopback, private or link-local address (NAT64 of a private address), which is not allowed.',
    );
    expect(refused('6to4:link_local')).toMatch(/\(6to4 of a link-local address\)/);
    expect(refused('carrier_grade_nat')).toMatch(/\(carrier-grade NAT 100\.64\.0\.0\/10\)/);
    expect(refused('IPv4-mapped IPv6')).toMatch(/\(IPv4-mapped IPv6\)/);
  });

  it('with neither a code nor a sentence is refused, not shown as something else', () => {
    expect(toolOutcomeSchema.safeParse({ kind: 'failed' }).success).toBe(false);
  });
});
