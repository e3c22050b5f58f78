import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Which replica a request goes to, by name. */
export type Route = (req: { method: string; path: string }) => string;

/**
 * A loopback load balancer: one origin (the deployment's PUBLIC_URL) in front of several replicas,
 * forwarding each request untouched (no redirects followed, cookies and all) to the replica `route`
 * names. Records who served what, so a test can say "the callback landed on b".
 */
export class Balancer {
  readonly backends = new Map<string, string>();
  readonly served: { method: string; path: string; to: string }[] = [];
  route: Route = () => [...this.backends.keys()][0]!;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<Balancer> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const b = new Balancer(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    server.on('request', (req, res) => {
      const path = req.url ?? '/';
      const to = b.route({ method: req.method ?? 'GET', path: path.split('?')[0]! });
      const target = new URL(path, b.backends.get(to));
      b.served.push({ method: req.method ?? 'GET', path: path.split('?')[0]!, to });
      const out = request(
        target,
        { method: req.method, headers: { ...req.headers, host: new URL(b.url).host } },
        (up: IncomingMessage) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      out.on('error', () => res.writeHead(502).end());
      req.pipe(out);
    });
    return b;
  }

  /** Which replica served the last request for `path` (and `method`, when given). */
  servedBy(path: string, method?: string): string | undefined {
    return this.served.filter((s) => s.path === path && (!method || s.method === method)).at(-1)?.to;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
