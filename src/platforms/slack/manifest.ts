import { readFileSync } from 'node:fs';

/** The host the committed manifest names, replaced by PUBLIC_URL. */
const PLACEHOLDER = 'https://onbehalf.example.com';
const MANIFEST = new URL('../../../slack/manifest.yaml', import.meta.url);

/**
 * `slack/manifest.yaml` ready to paste into "Create New App → From a manifest": every URL on
 * `publicUrl`. With `socket`, Socket Mode is on and the event, command and interactivity URLs
 * are gone (Slack reaches the app over the socket; people's browsers still need PUBLIC_URL/oauth/*).
 */
export function slackManifest(publicUrl: string, o: { socket?: boolean } = {}): string {
  const base = publicUrl.replace(/\/+$/, '');
  const body = readFileSync(MANIFEST, 'utf8')
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .filter((l) => !(o.socket && /^\s+(url|request_url): /.test(l)))
    .map((l) => (o.socket ? l.replace('socket_mode_enabled: false', 'socket_mode_enabled: true') : l))
    .join('\n')
    .replaceAll(PLACEHOLDER, base);
  const head = o.socket
    ? `# onbehalf for PUBLIC_URL=${base}, Socket Mode: also create an app-level token with connections:write (SLACK_APP_TOKEN).`
    : `# onbehalf for PUBLIC_URL=${base}.`;
  return `${head}\n${body}`;
}
