import type { Config } from '../config.js';
import type { ChatSignIn } from '../oauth/index.js';
import { DiscordSignIn } from './discord/signin.js';
import { SlackSignIn } from './slack/signin.js';

/**
 * The chat sign-in the connect flow asks first, per platform: Sign in with Slack where
 * SLACK_CLIENT_ID/SLACK_CLIENT_SECRET are set, Discord `identify` where DISCORD_CLIENT_SECRET is.
 * Undefined when neither is: then first connects are held until confirmed in chat.
 */
export function chatSignIn(config: Config): ChatSignIn | undefined {
  const slack =
    config.slack.clientId && config.slack.clientSecret
      ? new SlackSignIn({
          clientId: config.slack.clientId,
          clientSecret: config.slack.clientSecret,
          issuer: config.slack.oidcIssuer,
        })
      : undefined;
  const discord =
    config.discord.applicationId && config.discord.clientSecret
      ? new DiscordSignIn({
          applicationId: config.discord.applicationId,
          clientSecret: config.discord.clientSecret,
          apiUrl: config.discord.apiUrl,
        })
      : undefined;
  if (!slack && !discord) return undefined;
  const of = (p: string) => (p === 'slack' ? slack : p === 'discord' ? discord : undefined);
  return {
    has: (p) => of(p) !== undefined,
    origin: (p) => of(p)?.origin(),
    authorizeUrl: async (p, state, challenge, redirectUri) => of(p)?.authorizeUrl(state, challenge, redirectUri),
    verify: async (p, code, verifier, redirectUri) =>
      (await of(p)?.verify(code, verifier, redirectUri)) ?? { ok: false, reason: `${p} sign-in is not configured` },
  };
}
