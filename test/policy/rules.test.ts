import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keyring } from '../../src/crypto/index.js';
import type { Store } from '../../src/db/index.js';
import { Identity } from '../../src/identity/index.js';
import { NetGuard } from '../../src/net/index.js';
import { decide, duplicateKey, globMatch, Policy, type AccessRule, type Decision } from '../../src/policy/index.js';
import { testKey } from '../support/env.js';
import { testStore } from '../support/store.js';
import { wordsOf } from '../support/said.js';
import { problemText } from '../../src/chat/words/problems.js';

const ctx = {
  'user.id': 'u1',
  'user.email': 'alice@acme.com',
  'user.name': 'Alice',
  'org.id': 'o1',
  'chat.channel': 'C1',
  'chat.platform': 'slack',
} as const;
const subject = { userId: 'u1', role: 'member', teams: [] };
let n = 0;
const rule = (r: Partial<AccessRule>): AccessRule => ({
  id: `r${n++}`,
  effect: 'allow',
  tools: '*',
  subjects: {},
  argConstraints: {},
  inject: {},
  ...r,
});
const call = (rules: AccessRule[], args: Record<string, unknown>, tool = 'get_repo'): Decision =>
  decide(rules, 'gh', subject, tool, args, ctx);
/** What the tool would be sent, or the one-line reason it is not. */
const sent = (d: Decision) => (d.kind === 'allowed' ? d.args : problemText(d.why));

describe('a deny rule on an argument cannot be sidestepped', () => {
  const deny = [rule({ effect: 'deny', argConstraints: { repo: 'acme/secret' } })];

  // Each spelling is either read as the denied value (and denied by the rule) or refused outright as one it cannot judge.
  it.each([
    ['the exact value', 'acme/secret', 'denied'],
    ['upper case', 'ACME/secret', 'denied'],
    ['mixed case', 'Acme/Secret', 'denied'],
    ['a trailing slash', 'acme/secret/', 'denied'],
    ['a doubled slash', 'acme//secret', 'denied'],
    ['leading space', ' acme/secret', 'denied'],
    ['trailing tab and space', 'acme/secret \t', 'denied'],
    ['fullwidth letters (NFKC)', 'ａｃｍｅ/secret', 'denied'],
    ['a fullwidth solidus (NFKC)', 'acme／secret', 'denied'],
    ['a long s (NFKC)', 'acme/\u017fecret', 'denied'],
    ['a trailing newline', 'acme/secret\n', 'refused outright'],
    ['a CR', 'acme/secret\r', 'refused outright'],
    ['a NUL', 'acme/secret\u0000', 'refused outright'],
    ['DEL', 'acme/secret\u007f', 'refused outright'],
    ['a C1 control', 'acme/secret\u0085', 'refused outright'],
    ['U+2028', 'acme/secret\u2028', 'refused outright'],
    ['a zero-width space', 'acme/se\u200bcret', 'refused outright'],
    ['a bidi override', 'acme/\u202esecret', 'refused outright'],
    ['a "." segment', 'acme/./secret', 'refused outright'],
    ['a ".." segment', 'acme/x/../secret', 'refused outright'],
    ['fullwidth dots forming ".."', 'acme/x/．．/secret', 'refused outright'],
    ['a percent-encoded slash', 'acme%2Fsecret', 'refused outright'],
  ] as const)('%s is %s', (_what, repo, how) => {
    const d = call(deny, { repo });
    expect(d.kind).toBe('denied');
    if (how === 'denied')
      expect(
        d.kind === 'denied' && /deny gh "\*" for everyone with repo=acme\/secret|cannot judge/.test(problemText(d.why)),
      ).toBe(true);
    else
      expect(sent(d)).toMatch(
        /^repo (holds control or invisible characters|has a "\." or "\.\." path segment|holds percent-encoded characters), which rule deny gh "\*" for everyone with repo=acme\/secret cannot judge; send a plain value$/,
      );
  });

  it('the NFD form of a Unicode name is the NFC name: denied, and NFC is what would be sent', () => {
    const denyCafe = [
      rule({ effect: 'deny', argConstraints: { repo: 'acme/café' } }),
      rule({ argConstraints: { repo: 'acme/*' } }),
    ];
    const nfd = 'acme/cafe\u0301';
    expect(nfd).not.toBe('acme/café');
    expect(call(denyCafe, { repo: nfd }).kind).toBe('denied');
    expect(sent(call(denyCafe, { repo: 'acme/caf\u0065\u0301s  ' }))).toEqual({ repo: 'acme/cafés' });
  });

  it('non-strings where a string is constrained are refused, and a missing value the deny checks is refused', () => {
    for (const [repo, kind] of [
      [['acme/secret'], 'an array'],
      [{ x: 'acme/secret' }, 'an object'],
      [42, 'a number'],
      [null, 'null'],
      [true, 'a boolean'],
    ] as const) {
      expect(sent(call(deny, { repo }))).toBe(
        `repo must be a string, not ${kind} (rule deny gh "*" for everyone with repo=acme/secret checks it)`,
      );
    }
    expect(sent(call(deny, { other: 'x' }))).toBe(
      'rule deny gh "*" for everyone with repo=acme/secret checks repo, which is missing; give repo as a string',
    );
  });

  it('other repositories pass, normalised as they are sent', () => {
    expect(sent(call(deny, { repo: ' acme//public/ ', n: 1 }))).toEqual({ repo: 'acme/public', n: 1 });
    expect(sent(call(deny, { repo: 'acme/secrets' }))).toEqual({ repo: 'acme/secrets' });
  });
});

describe('an allow rule matches per segment, case-sensitively unless --ignore-case', () => {
  const allow = [rule({ argConstraints: { repo: 'acme/*' } })];
  const requires = 'rule allow gh "*" for everyone with repo=acme/* requires repo must match acme/*';

  it('accepts one segment under acme/ and sends the normal form', () => {
    expect(sent(call(allow, { repo: 'acme/app' }))).toEqual({ repo: 'acme/app' });
    expect(sent(call(allow, { repo: 'acme//app/' }))).toEqual({ repo: 'acme/app' });
  });

  it.each([
    ['acme/../evil/app', /has a "\." or "\.\." path segment/],
    ['acme/./app', /has a "\." or "\.\." path segment/],
    ['acme/app\nX', /holds control or invisible characters/],
    ['acme/app\u2029', /holds control or invisible characters/],
    ['acme/app/sub', requires],
    ['evil/acme/app', requires],
    ['ACME/app', requires],
    ['acme', requires],
  ])('%j is refused', (repo, why) => {
    const d = call(allow, { repo });
    expect(d.kind).toBe('denied');
    expect(sent(d)).toMatch(why);
  });

  it.each([
    [['acme/app'], 'an array'],
    [{ x: 'acme/app' }, 'an object'],
    [42, 'a number'],
    [null, 'null'],
  ] as const)('%j is refused: not a string', (repo, kind) => {
    expect(sent(call(allow, { repo }))).toBe(
      `repo must be a string, not ${kind} (rule allow gh "*" for everyone with repo=acme/* checks it)`,
    );
  });

  it('a missing constrained argument fails the allow rule', () => {
    expect(sent(call(allow, {}))).toBe(requires);
  });

  it('** crosses segments, ? is one non-slash character', () => {
    expect(globMatch('acme/**', 'acme/app/sub')).toBe(true);
    expect(globMatch('acme/*', 'acme/app/sub')).toBe(false);
    expect(globMatch('acme/ap?', 'acme/app')).toBe(true);
    expect(globMatch('acme?app', 'acme/app')).toBe(false);
    expect(globMatch('acme/*', 'acme/app\nx')).toBe(false);
  });

  it('--ignore-case lets case variants through an allow rule, and still refuses other repositories', () => {
    const ci = [rule({ argConstraints: { repo: 'acme/*' }, ignoreCase: true })];
    expect(sent(call(ci, { repo: 'ACME/App' }))).toEqual({ repo: 'ACME/App' });
    expect(call(ci, { repo: 'evil/App' }).kind).toBe('denied');
  });

  it('a deny beside the allow still wins for every variant', () => {
    const both = [...allow, rule({ effect: 'deny', argConstraints: { repo: 'acme/secret' } })];
    for (const repo of ['ACME/SECRET', 'acme/secret/', 'acme//secret', ' acme/secret'])
      expect(call(both, { repo }).kind).toBe('denied');
    expect(call(both, { repo: 'acme/app' }).kind).toBe('allowed');
  });
});

describe('argument names', () => {
  const inject = [rule({ argConstraints: { repo: 'acme/*' }, inject: { user_email: '{user.email}' } })];

  it('the injected identity overrides the same name, and variants of it are refused', () => {
    expect(sent(call(inject, { repo: 'acme/app', user_email: 'ceo@acme.com' }))).toEqual({
      repo: 'acme/app',
      user_email: 'alice@acme.com',
    });
    for (const k of [
      'User_Email',
      'USER_EMAIL',
      'user_email ',
      ' user_email',
      'user-email',
      'userEmail',
      'user.email',
      'user_\u200bemail',
      'ｕｓｅｒ_email',
    ]) {
      expect(sent(call(inject, { repo: 'acme/app', [k]: 'ceo@acme.com' }))).toBe(
        `the argument "${k}" looks like "user_email", which rule allow gh "*" for everyone with repo=acme/* checks or sets; use the exact name user_email`,
      );
    }
  });

  it('a variant of a constrained name is refused, so a second repo cannot ride along', () => {
    const d = call(inject, { repo: 'acme/app', Repo: 'acme/secret' });
    expect(d).toMatchObject({ kind: 'denied', why: { code: 'look_alike', arg: 'Repo', name: 'repo' } });
    expect(sent(d)).toMatch(/^the argument "Repo" looks like "repo"/);
  });

  it('__proto__ anywhere in the arguments is refused, not turned into a prototype or dropped unseen', () => {
    const allow = [rule({ argConstraints: { repo: 'acme/*' } })];
    const top = JSON.parse('{"__proto__":{"repo":"acme/app"}}') as Record<string, unknown>;
    expect(sent(call(allow, top))).toBe('an argument is named __proto__, which is never passed on; rename it');
    const nested = JSON.parse('{"repo":"acme/app","opts":[{"__proto__":{"admin":true}}]}') as Record<string, unknown>;
    expect(sent(call([], nested))).toBe('an argument is named __proto__, which is never passed on; rename it');
  });

  it('duplicate names in a JSON text are found at any depth, and only in keys', () => {
    expect(duplicateKey('{"repo":"acme/secret","repo":"x"}')).toBe('repo');
    expect(
      duplicateKey('{"a":{"b":1,"c":{"b":2}},"x":["repo","repo"],"s":"\\"repo\\":1,\\"repo\\":2"}'),
    ).toBeUndefined();
    expect(duplicateKey('{"a":[{"k":1},{"k":2,"k" : 3}]}')).toBe('k');
    expect(duplicateKey('{"\\u0072epo":1,"repo":2}')).toBe('repo');
  });
});

describe('storing rules', () => {
  let store: Store;
  let policy: Policy;
  let orgId: string;
  beforeAll(async () => {
    store = await testStore();
    policy = new Policy(store, new Keyring([testKey()]), { net: new NetGuard({ allowPrivate: true }) });
    orgId = (await new Identity(store).orgFor('slack', 'T1', 'Acme')).id;
    await policy.addServer(orgId, { name: 'gh', transport: 'http', url: 'https://mcp.example.com/mcp' });
  });
  afterAll(async () => {
    await store.close();
  });

  it('keeps --ignore-case, normalises globs, and refuses globs that could never match or names like __proto__', async () => {
    expect(
      await wordsOf(policy).rule(orgId, 'allow', 'gh', { tools: '*', args: { repo: 'acme//*/' }, ignoreCase: true }),
    ).toMatchObject({ ok: true, message: expect.stringMatching(/with repo=acme\/\*, ignoring case/) });
    const stored = await policy.rules((await policy.server(orgId, 'gh'))!.id);
    expect(stored).toMatchObject([{ argConstraints: { repo: 'acme/*' }, ignoreCase: true }]);
    expect(decide(stored, 'gh', subject, 'x', { repo: 'Acme/App' }, ctx).kind).toBe('allowed');
    expect(await wordsOf(policy).rule(orgId, 'deny', 'gh', { tools: '*', args: { repo: 'acme/../x' } })).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^Rule not added: args\.repo: the glob has a "\." or "\.\." path segment/),
    });
    expect(
      await wordsOf(policy).rule(orgId, 'allow', 'gh', {
        tools: '*',
        inject: JSON.parse('{"__proto__":"{user.id}"}') as Record<string, string>,
      }),
    ).toMatchObject({ ok: false, error: expect.stringMatching(/may not be named __proto__/) });
  });
});
