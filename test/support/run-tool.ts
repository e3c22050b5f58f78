import type { RecordingNotifier } from '../runner/harness.js';
import type { World } from './world.js';

/** Enqueues `server.tool` as `who` (in channel C1) and resolves the first thing they were told about it. */
export async function runAs(w: World, notes: RecordingNotifier, who: string, server: string, tool = 'whoami') {
  const u = await w.user(who);
  const { callId } = await w.app.runner.enqueueToolCall({
    orgId: w.org.id,
    userId: u.id,
    chatIdentity: u.chatIdentity,
    server,
    tool,
    args: {},
    target: u.target('C1'),
    requestId: `r-${who}-${server}-${Date.now()}`,
  });
  return notes.next(callId, 20_000);
}
