import { runningPlaceholder } from '../chat/delivery.js';
import { approvalPrompt, connectPrompt } from '../chat/prompts.js';
import type { OutboundRouter } from '../chat/outbound.js';
import type { Logger } from '../log.js';
import {
  outcomeText,
  type ApprovalRequest,
  type CallInfo,
  type ConnectRequest,
  type RunnerNotifier,
  type ToolOutcome,
} from './outcome.js';

/** The notifier of a running product: posts through the chat platforms' outbound senders. */
export class OutboundNotifier implements RunnerNotifier {
  constructor(
    private readonly outbound: OutboundRouter,
    private readonly log: Logger,
  ) {}

  async outcome(call: CallInfo, outcome: ToolOutcome, delivery?: { messageId?: string }): Promise<void> {
    if (!this.outbound.has(call.target.platform)) {
      this.log.warn(
        { callId: call.callId, platform: call.target.platform },
        'no chat sender for this platform in this process; outcome not posted',
      );
      return;
    }
    const msg = { text: outcomeText(call, outcome) };
    if (delivery?.messageId) await this.outbound.update(call.target, delivery.messageId, msg);
    else await this.outbound.reply(call.target, msg);
  }

  async placeholder(call: CallInfo): Promise<string | undefined> {
    if (!this.outbound.has(call.target.platform)) return undefined;
    const t = call.target;
    return this.outbound.placeholder(t, runningPlaceholder(call.server, call.tool));
  }

  async needsConnect(call: CallInfo, req: ConnectRequest): Promise<void> {
    if (!this.outbound.has(call.target.platform)) {
      this.log.warn(
        { callId: call.callId, platform: call.target.platform },
        'no chat sender for this platform in this process; connect prompt not posted',
      );
      return;
    }
    await this.outbound.replyPrivately(
      call.target,
      connectPrompt(call.server, call.tool, req.providerSlug, req.reason, req.connectUrl),
    );
  }

  async approvalRequest(call: CallInfo, req: ApprovalRequest): Promise<void> {
    if (!this.outbound.has(call.target.platform)) {
      this.log.warn(
        { callId: call.callId, platform: call.target.platform },
        'no chat sender for this platform in this process; approval prompt not posted',
      );
      return;
    }
    await this.outbound.replyPrivately(call.target, approvalPrompt(call.server, call.tool, call.callId, req));
  }
}
