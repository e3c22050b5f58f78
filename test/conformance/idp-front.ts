// The company IdP of the cross-app-access scenario, as a person and onbehalf meet it. The suite's
// IdP implements only its token endpoint (token exchange of an ID token it signed, handed to the
// client in MCP_CONFORMANCE_CONTEXT), so this loopback front plays its sign-in: `/authorize`
// approves at once, `/token` answers the code with that ID token, and every other grant (the token
// exchange onbehalf performs) is relayed to the suite's IdP unchanged, its answer relayed back.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface IdpFront {
  url: string;
  stop(): Promise<void>;
}

/** Starts the front on 127.0.0.1 for the suite's IdP at `tokenEndpoint`, signing people in with `idToken`. */
export async function startIdpFront(tokenEndpoint: string, idToken: string): Promise<IdpFront> {
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://front');
    if (req.method === 'GET' && u.pathname === '/authorize') {
      const back = new URL(u.searchParams.get('redirect_uri') ?? '');
      back.searchParams.set('code', `code-${Date.now()}`);
      back.searchParams.set('state', u.searchParams.get('state') ?? '');
      res.writeHead(302, { location: back.href }).end();
      return;
    }
    if (req.method !== 'POST' || u.pathname !== '/token') return void res.writeHead(404).end();
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const form = new URLSearchParams(body);
      if (form.get('grant_type') === 'authorization_code') {
        const tokens = { access_token: `idp-${Date.now()}`, token_type: 'Bearer', expires_in: 3600, id_token: idToken };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ...tokens, scope: 'openid' }));
        return;
      }
      void fetch(tokenEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body,
      })
        .then(async (r) => res.writeHead(r.status, { 'content-type': 'application/json' }).end(await r.text()))
        .catch(() => res.writeHead(502).end());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
