import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One chat-completions request as the loopback LLM received it. */
export interface LlmRequest {
  model: string;
  messages: { role: string; content: unknown; tool_calls?: { function: { name: string; arguments: string } }[]; tool_call_id?: string }[];
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
              tool_calls: reply.toolCalls.map((c) => ({ id: `call_${++n}`, type: 'function', function: { name: c.name, arguments: JSON.stringify(c.args) } })),
            };
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

/** The text of tool results in a request (what the tools returned to the model). */
export const toolResults = (req: LlmRequest): string[] =>
  req.messages.filter((m) => m.role === 'tool').map((m) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content)));
