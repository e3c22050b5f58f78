import type { Logger } from '../log.js';
import type {
  ApprovalRequest,
  CallInfo,
  ConnectRequest,
  ElicitationPrompt,
  RunnerNotifier,
  ToolOutcome,
} from '../runner/index.js';
import { privateAnswerNote, privateMaybeDelivered, runningPlaceholder } from './delivery.js';
import { outcomeText } from './outcomes.js';
import type { OutboundRouter } from './outbound.js';
import { approvalPrompt, connectPrompt } from './prompts.js';
import { elicitationPrompt } from './words/elicit.js';

/** The runner's notifier in a running product: words each notice and posts it through the platforms' senders. */
export class OutboundNotifier implements RunnerNotifier {
  constructor(
    private readonly outbound: OutboundRouter,
    private readonly log: Logger,
  ) {}

  /** False (with a log line) where this process has no sender for the call's platform. */
  #canPost(call: CallInfo, what: string): boolean {
    if (this.outbound.has(call.target.platform)) return true;
    this.log.warn(
      { callId: call.callId, platform: call.target.platform },
      `no chat sender for this platform in this process; ${what} not posted`,
    );
    return false;
  }

  async outcome(call: CallInfo, outcome: ToolOutcome, delivery?: { messageId?: string }): Promise<void> {
    if (!this.#canPost(call, 'outcome')) return;
    // A private result went to the caller (`privateOutcome`); the conversation (its placeholder, if any) gets one line.
    const msg = call.private ? privateAnswerNote(call) : { text: outcomeText(call, outcome) };
    if (delivery?.messageId) await this.outbound.update(call.target, delivery.messageId, msg);
    else await this.outbound.reply(call.target, msg);
  }

  async privateOutcome(call: CallInfo, outcome: ToolOutcome, again: boolean): Promise<void> {
    if (!this.#canPost(call, 'private outcome')) return;
    const msg = again ? privateMaybeDelivered(call) : { text: outcomeText(call, outcome) };
    await this.outbound.replyPrivately(call.target, msg);
  }

  async placeholder(call: CallInfo): Promise<string | undefined> {
    if (!this.outbound.has(call.target.platform)) return undefined;
    return this.outbound.placeholder(call.target, runningPlaceholder(call.server, call.tool));
  }

  async needsConnect(call: CallInfo, req: ConnectRequest): Promise<void> {
    if (!this.#canPost(call, 'connect prompt')) return;
    const msg = connectPrompt(call.server, call.tool, req.providerSlug, req.reason, req.connectUrl);
    await this.outbound.replyPrivately(call.target, msg);
  }

  canAsk(call: CallInfo): boolean {
    return this.outbound.has(call.target.platform);
  }

  async elicitation(call: CallInfo, prompt: ElicitationPrompt): Promise<void> {
    await this.outbound.replyPrivately(call.target, elicitationPrompt(call, prompt));
  }

  async approvalRequest(call: CallInfo, req: ApprovalRequest): Promise<void> {
    if (!this.#canPost(call, 'approval prompt')) return;
    await this.outbound.replyPrivately(call.target, approvalPrompt(call.server, call.tool, call.callId, req));
  }
}
