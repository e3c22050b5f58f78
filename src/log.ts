import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** Field names whose values never reach a log line, at any of the first four levels of nesting. */
const sensitive = [
  'token',
  'accessToken',
  'access_token',
  'refreshToken',
  'refresh_token',
  'idToken',
  'id_token',
  'secret',
  'clientSecret',
  'client_secret',
  'password',
  'authorization',
  'Authorization',
  'cookie',
  'code',
  'code_verifier',
  'codeVerifier',
  'refresh',
  'apiKey',
  'api_key',
  'value',
  'env',
  'headers.authorization',
  'headers.cookie',
];

function redactPaths(): string[] {
  const out: string[] = [];
  for (const name of sensitive) {
    for (let depth = 0; depth < 4; depth++) out.push([...Array(depth).fill('*'), name].join('.'));
  }
  return out;
}

/** The product's logger: JSON lines, sensitive fields replaced by `[redacted]`. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { app: 'onbehalf' },
      redact: { paths: redactPaths(), censor: '[redacted]' },
      serializers: { err: pino.stdSerializers.err },
    },
    destination,
  );
}
