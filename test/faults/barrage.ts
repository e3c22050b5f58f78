import { SlackSigner } from '../support/slack-signing.js';

/** A small seeded PRNG (mulberry32): the same seed gives the same barrage, so a failure reproduces. */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  return { next, int, pick, chance: (p: number) => next() < p };
}
type Rng = ReturnType<typeof prng>;

/** One request of the barrage. */
export interface BadRequest {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
  kind: string;
}

const WORDS = [
  'run',
  'help',
  'tools',
  'connect',
  'disconnect',
  'link',
  'whoami',
  'connections',
  'admin',
  'provider',
  'server',
  'bind',
  'allow',
  'deny',
  'secret',
  'role',
  'audit',
  'add',
  'list',
  'set',
  'delete',
  'grant',
  '--scopes',
  '--template',
  'oauth:gh',
  'static:x',
  'env',
  'header',
  'web.echo',
  'a.b',
  'x',
  '*',
];
const ODD = [
  '',
  ' ',
  '\u0000',
  '\u0007',
  '\u001b[2J',
  '\ud800',
  '\u202e',
  '🙂',
  '"',
  "'",
  '\\',
  '{',
  '}',
  '[',
  ']',
  '%',
  '%E0%A4%A',
  '&',
  '=',
  '+',
  '<script>',
  '${x}',
  '../../etc/passwd',
  'null',
  'undefined',
  'NaN',
  '-1',
  '1e309',
  '__proto__',
  'constructor',
];

function junk(r: Rng, max: number): string {
  const n = r.int(max);
  let s = '';
  for (let i = 0; i < n; i++) {
    const c = r.int(4);
    s +=
      c === 0
        ? r.pick(WORDS) + ' '
        : c === 1
          ? r.pick(ODD)
          : c === 2
            ? String.fromCharCode(r.int(0x2fff))
            : String(r.int(1e6));
  }
  return s;
}

function jsonish(r: Rng, depth = 0): unknown {
  switch (r.int(depth > 3 ? 4 : 7)) {
    case 0:
      return junk(r, 8);
    case 1:
      return r.int(1e9) - 5e8;
    case 2:
      return r.chance(0.5);
    case 3:
      return null;
    case 4:
      return Array.from({ length: r.int(4) }, () => jsonish(r, depth + 1));
    default:
      return Object.fromEntries(
        Array.from({ length: r.int(5) }, () => [
          r.pick([
            ...WORDS,
            'type',
            'event',
            'user',
            'team_id',
            'channel',
            'text',
            'payload',
            'actions',
            'view',
            '__proto__',
          ]),
          jsonish(r, depth + 1),
        ]),
      );
  }
}

/** A truncated, mangled or hostile version of `s`. */
function mangle(r: Rng, s: string): string {
  switch (r.int(5)) {
    case 0:
      return s.slice(0, r.int(s.length + 1));
    case 1:
      return s + junk(r, 5);
    case 2:
      return s.replace(/[{}"[\]=&]/g, () => r.pick(ODD));
    case 3:
      return r.pick(ODD).repeat(r.int(3000));
    default:
      return s;
  }
}

/** encodeURIComponent that survives lone surrogates (it throws on them). */
const enc = (s: string) => {
  try {
    return encodeURIComponent(s);
  } catch {
    return '%ED%A0%80';
  }
};

const SIGN_FAULTS = [
  {},
  {},
  {},
  { secret: 'wrong-secret-xyz' },
  { timestamp: Math.floor(Date.now() / 1000) - 3600 },
  { version: 'v1' },
  { omit: ['x-slack-signature'] as const },
  { omit: ['x-slack-request-timestamp'] as const },
];

/**
 * The 10,000-request barrage: malformed slash commands, event and interactivity payloads to
 * `POST /slack/events` (signed correctly, badly, or not at all), and hostile `/oauth/start` and
 * `/oauth/callback` query strings. Deterministic for a seed.
 */
export function* barrage(seed: number, count: number, signer: SlackSigner, teamId: string): Generator<BadRequest> {
  const r = prng(seed);
  for (let i = 0; i < count; i++) {
    const signOpts = { ...r.pick(SIGN_FAULTS), ...(r.chance(0.1) ? { retryNum: r.int(5) } : {}) } as Parameters<
      SlackSigner['sign']
    >[2];
    const post = (kind: string, body: string, type: 'json' | 'form'): BadRequest => {
      const signed = r.chance(0.15)
        ? {
            body,
            headers: {
              'content-type': r.pick([
                'text/plain',
                'application/json',
                'application/x-www-form-urlencoded',
                'multipart/form-data; boundary=x',
              ]),
            },
          }
        : signer.sign(body, type, signOpts);
      return { method: 'POST', path: '/slack/events', headers: signed.headers, body: signed.body, kind };
    };
    const roll = r.int(100);
    if (roll < 40) {
      const fields: Record<string, string> = {
        team_id: r.chance(0.8) ? teamId : junk(r, 2),
        user_id: r.chance(0.9) ? `U${r.int(50)}` : junk(r, 2),
        channel_id: `C${r.int(5)}`,
        command: r.chance(0.9) ? '/onbehalf' : junk(r, 2),
        text: r.chance(0.5) ? `${r.pick(WORDS)} ${junk(r, 12)}` : junk(r, 30),
        trigger_id: `trig.${i}`,
        response_url: r.pick(['https://hooks.slack.invalid/x', junk(r, 3)]),
        api_app_id: 'A_FAKE',
      };
      for (const k of Object.keys(fields)) if (r.chance(0.05)) delete fields[k];
      const body = new URLSearchParams(fields).toString();
      yield post('command', r.chance(0.25) ? mangle(r, body) : body, 'form');
    } else if (roll < 62) {
      const event = r.chance(0.6)
        ? {
            type: r.pick([
              'app_mention',
              'message',
              'app_home_opened',
              'tokens_revoked',
              'app_uninstalled',
              junk(r, 2),
            ]),
            user: `U${r.int(50)}`,
            text: junk(r, 10),
            channel: `C${r.int(5)}`,
            ts: `${1700000000 + i}.0001`,
            channel_type: r.pick(['im', 'channel', 7]),
            bot_id: r.chance(0.1) ? 'B1' : undefined,
          }
        : jsonish(r);
      const envelope = r.chance(0.7)
        ? {
            token: 'x',
            team_id: r.chance(0.8) ? teamId : jsonish(r),
            api_app_id: 'A_FAKE',
            type: r.pick(['event_callback', 'url_verification', 'app_rate_limited', junk(r, 2)]),
            challenge: junk(r, 3),
            event_id: `EvB${i}`,
            event_time: r.int(2e9),
            event,
          }
        : jsonish(r);
      const body = JSON.stringify(envelope) ?? 'null';
      yield post('event', r.chance(0.25) ? mangle(r, body) : body, 'json');
    } else if (roll < 75) {
      const payload = r.chance(0.6)
        ? {
            type: r.pick(['block_actions', 'view_submission', 'shortcut', 'view_closed', junk(r, 2)]),
            team: { id: teamId },
            user: { id: `U${r.int(50)}` },
            actions: jsonish(r),
            view: jsonish(r),
            trigger_id: `t${i}`,
            response_url: 'https://hooks.slack.invalid/y',
          }
        : jsonish(r);
      const body = r.chance(0.8)
        ? new URLSearchParams({ payload: mangle(r, JSON.stringify(payload) ?? 'null') }).toString()
        : mangle(r, junk(r, 20));
      yield post('interaction', body, 'form');
    } else {
      const path = r.pick([
        '/oauth/start',
        '/oauth/callback',
        '/oauth/callback',
        '/oauth/start/',
        '/oauth/callback/../start',
      ]);
      const keys = ['t', 'state', 'code', 'error', 'error_description', 'iss', 'next', 'return_to', junk(r, 2)];
      const parts = Array.from({ length: r.int(6) }, () => {
        const v = r.pick([
          junk(r, 6),
          'eyJhbGciOiJIUzI1NiJ9.' + junk(r, 4),
          '%'.repeat(r.int(4)),
          'x'.repeat(r.int(6000)),
          '%C0%AF%E0%80%AF',
          '',
        ]);
        return `${enc(r.pick(keys))}=${r.chance(0.7) ? enc(v) : v.replace(/[\s#]/g, '')}`;
      });
      yield {
        method: 'GET',
        path: `${path}?${parts.join(r.pick(['&', '&&', ';', '&amp;']))}`,
        headers: {},
        kind: 'oauth',
      };
    }
  }
}
