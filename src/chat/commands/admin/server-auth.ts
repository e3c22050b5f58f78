import { providerText } from '../../words/oauth.js';
import { policyText } from '../../words/policy.js';
import type { CommandContext, CommandReply } from '../spec.js';
import { say } from '../spec.js';
import { done } from './shared.js';

/** `admin server auth …` usage, after `server`. */
export const SERVER_AUTH = 'auth <name> --client-id <id> [--private-key]';

/**
 * `admin server auth <name> --client-id <id> [--private-key]`: the client the admin registered at
 * the server's authorization server, used instead of registering one (`mcp_oauth`), as the org's
 * machine identity (`client_credentials:<name>`) and to present ID-JAGs (`exchange:<provider>`).
 * The secret, or with `--private-key` the key that signs `private_key_jwt` assertions, goes in a private form.
 */
export async function serverAuth(
  ctx: CommandContext,
  name: string,
  flags: Record<string, string | true>,
): Promise<CommandReply> {
  const clientId = flags['client-id'];
  if (typeof clientId !== 'string' || !clientId)
    return say(`Give the client id: \`/onbehalf admin ${SERVER_AUTH}\` (the secret goes in a private form).`);
  const server = await ctx.services.policy.server(ctx.org.id, name);
  if (!server) return say(policyText({ ok: false, error: { kind: 'unknown_server', name } }));
  if (server.transport !== 'http')
    return say(`${name} is a stdio server: client credentials are for http servers and their authorization server.`);
  const privateKey = flags['private-key'] === true;
  const r = await ctx.services.oauth.preRegisterMcpClient(
    ctx.org.id,
    { serverId: server.id, serverName: server.name },
    clientId,
    { privateKey },
  );
  const reply = await done(ctx, 'server.auth', r, providerText(r), { server: name });
  if (!r.ok || r.value.kind !== 'mcp_client_set') return reply;
  if (privateKey)
    return {
      private: {
        text: `${providerText(r)}\nPaste the client's private key (PEM or JWK) in the private form; it is sealed and only signs client assertions.`,
      },
      form: {
        formId: `provider-key:${r.value.slug}`,
        title: `Private key for ${name}`,
        fields: [{ id: 'value', label: 'Private key (PEM or JWK)', multiline: true }],
      },
    };
  return {
    private: {
      text:
        `${providerText(r)}\nRegister this redirect URI with the client: ${ctx.services.oauth.redirectUri()}\n` +
        'Enter the client secret in the private form (leave it empty for a public client).',
    },
    form: {
      formId: `provider-secret:${r.value.slug}`,
      title: `Client secret for ${name}`,
      fields: [{ id: 'value', label: 'Client secret' }],
    },
  };
}
