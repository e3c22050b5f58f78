import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One chat-completions request as the loopback LLM received it. */
export interface LlmRequest {
  model: string;
  messages: {
    role: string;
    content: unknown;
    tool_calls?: { id: string; function: { name: string; arguments: string } }[];
    tool_call_id?: string;
  }[];
  tools?: { type: 'function'; function: { name: string; description?: string; parameters?: unknown } }[];
  authorization: string | undefined;
}

/** What the scripted model answers: final text, or tool calls. */
export type LlmReply = { text: string } | { toolCalls: { name: string; args: Record<string, unknown> }[] };

/**
 * A loopback OpenAI-compatible server (`POST /v1/chat/completions`, non-streaming) whose answers
 * come from `script(request)`. Records every request, so tests see which tools the model was offered
 * and what the tools returned.
 */
export async function startLlmServer(script: (req: LlmRequest) => LlmReply) {
  const requests: LlmRequest[] = [];
  let n = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
        res.writeHead(404).end();
        return;
      }
      const parsed = JSON.parse(body) as Omit<LlmRequest, 'authorization'>;
      const r: LlmRequest = { ...parsed, authorization: req.headers.authorization };
      requests.push(r);
      const reply = script(r);
      const message =
        'text' in reply
          ? { role: 'assistant', content: reply.text }
          : {
              role: 'assistant',
              content: null,
              tool_calls: reply.toolCalls.map((c) => ({
                id: `call_${++n}`,
                type: 'function',
                function: { name: c.name, arguments: JSON.stringify(c.args) },
              })),
            };
      if ((parsed as { stream?: boolean }).stream) {
        streamReply(res, parsed.model, message, ++n);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          id: `chatcmpl-${++n}`,
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model: parsed.model,
          choices: [{ index: 0, message, finish_reason: 'text' in reply ? 'stop' : 'tool_calls' }],
          usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/**
 * A streamed answer (`stream: true`), as OpenAI-compatible servers send it: server-sent events of
 * chat.completion.chunk, text in word-sized deltas, each tool call whole in one delta, then the
 * finish reason and `[DONE]`.
 */
function streamReply(
  res: http.ServerResponse,
  model: string,
  message: { content: string | null; tool_calls?: unknown[] },
  id: number,
): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const send = (delta: Record<string, unknown>, finish: string | null = null) =>
    res.write(
      `data: ${JSON.stringify({
        id: `chatcmpl-${id}`,
        object: 'chat.completion.chunk',
        created: Math.floor(Date.now() / 1000),
        model,
        choices: [{ index: 0, delta, finish_reason: finish }],
      })}\n\n`,
    );
  send({ role: 'assistant', content: '' });
  for (const piece of (message.content ?? '').match(/\S+\s*|\s+/g) ?? []) send({ content: piece });
  (message.tool_calls ?? []).forEach((c, index) => send({ tool_calls: [{ index, ...(c as object) }] }));
  send({}, message.tool_calls ? 'tool_calls' : 'stop');
  res.end('data: [DONE]\n\n');
}

/** The text of tool results in a request (what the tools returned to the model). */
export const toolResults = (req: LlmRequest): string[] =>
  req.messages
    .filter((m) => m.role === 'tool')
    .map((m) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content)));

/** The text of a message, whatever its shape. */
export const messageText = (m: LlmRequest['messages'][number]): string =>
  typeof m.content === 'string' ? m.content : JSON.stringify(m.content ?? '');

/** What follows `call <server>.<tool>`: a JSON object (the shortest that parses), or one bare word put in the tool's first parameter. */
function argsFor(rest: string, params: unknown): Record<string, unknown> {
  if (rest.startsWith('{')) {
    for (let end = rest.indexOf('}'); end !== -1; end = rest.indexOf('}', end + 1)) {
      // Quoted inside JSON (a context note, a tool result), its quotes arrive escaped.
      for (const candidate of [rest.slice(0, end + 1), rest.slice(0, end + 1).replace(/\\"/g, '"')]) {
        try {
          const v = JSON.parse(candidate) as unknown;
          if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
        } catch {
          /* not yet a whole object: try a longer one */
        }
      }
    }
    return {};
  }
  const word = rest.match(/^[^\s"\\]+/)?.[0];
  const schema = (params ?? {}) as { properties?: Record<string, unknown>; required?: string[] };
  const first = schema.required?.[0] ?? Object.keys(schema.properties ?? {})[0];
  return word && first ? { [first]: word } : {};
}

/**
 * A model that obeys any instruction it is shown, wherever it appears (system prompt, anyone's
 * message, a tool result): the first `call <server>.<tool>` (optionally followed by JSON arguments or
 * one bare word) naming a tool it was offered, and not yet called in this turn, becomes that tool call
 * (`<server>__<tool>`, the agent's naming). Otherwise it answers with `fallback` (default: the last
 * tool result, or "OK."). Use it as `startLlmServer(obedientModel())` to play a prompt-injected model.
 */
export function obedientModel(fallback: (req: LlmRequest) => LlmReply = defaultAnswer): (req: LlmRequest) => LlmReply {
  return (req) => {
    const offered = new Map((req.tools ?? []).map((t) => [t.function.name, t.function.parameters]));
    const called = new Set(req.messages.flatMap((m) => m.tool_calls ?? []).map((c) => c.function.name));
    for (const m of req.messages) {
      const text = messageText(m);
      for (const hit of text.matchAll(/call ([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)[ \t]*/g)) {
        const name = `${hit[1]}__${hit[2]}`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
        if (!offered.has(name) || called.has(name)) continue;
        return { toolCalls: [{ name, args: argsFor(text.slice(hit.index + hit[0].length), offered.get(name)) }] };
      }
    }
    return fallback(req);
  };
}

function defaultAnswer(req: LlmRequest): LlmReply {
  const last = req.messages.at(-1);
  return { text: last?.role === 'tool' ? `The tool said: ${messageText(last)}` : 'OK.' };
}
