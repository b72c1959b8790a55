import { WebSocket } from 'ws';
import type { Session } from './dispatcher';

/** WebSocket close codes the daemon uses. */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  PolicyViolation: 1008,
  MessageTooBig: 1009,
  InternalError: 1011,
} as const;

/**
 * `ws` closes an over-long message with 1009 but no reason; this subclass adds one so the client
 * learns the limit. `maxPayload` (bytes) is set by the server when the class is created.
 */
export function webSocketClassWithLimit(maxPayload: number): typeof WebSocket {
  class LimitedWebSocket extends WebSocket {
    override close(code?: number, data?: string | Buffer): void {
      if (code === CloseCode.MessageTooBig && (data === undefined || data.length === 0)) {
        super.close(code, `message exceeds ${maxPayload} bytes (--max-message-bytes)`);
        return;
      }
      super.close(code, data);
    }
  }
  return LimitedWebSocket;
}

/** One WebSocket client: its session, liveness and a bounded send path. */
export class Connection {
  /** Set false before each heartbeat ping; a pong sets it back. */
  alive = true;
  private closing = false;

  constructor(
    readonly id: string,
    readonly ws: WebSocket,
    readonly session: Session,
    /** Unsent bytes beyond which the client is cut off as a slow consumer. */
    private readonly maxBufferedBytes: number,
    private readonly onSlowConsumer: (conn: Connection, buffered: number) => void,
  ) {}

  get open(): boolean {
    return !this.closing && this.ws.readyState === WebSocket.OPEN;
  }

  /**
   * Queue a frame. When the unsent backlog is already over the limit the connection is closed as a
   * slow consumer instead, so one stalled client cannot grow the daemon's memory.
   */
  send(frame: string): boolean {
    if (!this.open) return false;
    if (this.ws.bufferedAmount > this.maxBufferedBytes) {
      this.onSlowConsumer(this, this.ws.bufferedAmount);
      return false;
    }
    this.ws.send(frame);
    return true;
  }

  /**
   * Queue a frame and, when the backlog is past a quarter of the limit, wait until it has been
   * written out. For bulk senders (subscription catch-up) that can pace themselves.
   */
  sendPaced(frame: string): Promise<boolean> {
    if (!this.open) return Promise.resolve(false);
    if (this.ws.bufferedAmount <= this.maxBufferedBytes / 4) {
      this.ws.send(frame);
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      this.ws.send(frame, (err) => resolve(!err && this.open));
    });
  }

  close(code: number, reason: string): void {
    if (this.closing) return;
    this.closing = true;
    // Close reasons are limited to 123 bytes by the protocol.
    this.ws.close(code, Buffer.from(reason).subarray(0, 123).toString());
  }

  terminate(): void {
    this.closing = true;
    this.ws.terminate();
  }
}
