/**
 * "Projection P has reached position N", told by the projectors after each committed batch and
 * heard by the query API for read-your-writes; and "events were appended up to N", told by the
 * command side and heard by the processes that follow the store (a SQL store is otherwise
 * found out by polling). Over NATS between processes; in process for the embedded default.
 * Losing a message is harmless: readers also poll.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { connect, DebugEvents, Events, type NatsConnection, type Subscription } from 'nats';
import { withTimeout } from '../lib/timeout.ts';

export type PositionListener = (projection: string, position: number) => void;

export interface ProjectionPositions {
  publish(projection: string, position: number): void;
  /** Returns the function that stops listening. */
  listen(listener: PositionListener): () => void;
  /**
   * Tells the followers of the event store in other processes that it has events up to
   * `position` (this process's own subscriptions were woken by the store itself).
   */
  announceAppend(position: number): void;
  /** Hears other processes' appends. Returns the function that stops listening. */
  listenAppends(listener: (position: number) => void): () => void;
  /** True while messages can flow (NATS connected, or in process). */
  readonly connected: boolean;
  /**
   * True while other processes' appends are heard as they happen (NATS connected, and subscribed
   * to them): a follower of the store then polls only as a safety net for an announcement lost.
   */
  readonly hearsAppends: boolean;
  close(): Promise<void>;
}

export const POSITION_SUBJECT_PREFIX = 'boxoffice.projection';
export const APPENDED_SUBJECT = 'boxoffice.events.appended';

/**
 * A connection whose server stopped answering without closing it (a partition the operating
 * system does not see, a server hung) is given up after this many pings went unanswered, one
 * every NATS_PING_INTERVAL_MS: within 15 s, where the client's defaults (2 min, 2) took up to 6.
 * Until then the readers wait for news that does not come (polling slowly, as the news is meant
 * to carry them); from then on they poll fast, and the client reconnects. One PING every 5 s is
 * nothing to the server.
 */
export const NATS_PING_INTERVAL_MS = 5_000;
export const NATS_MAX_PINGS_OUT = 2;
/** How long closing waits for a connect in progress, and then for the drain, before it just closes. */
export const NATS_DRAIN_LIMIT_MS = 2_000;

export class InProcessPositions implements ProjectionPositions {
  readonly #emitter = new EventEmitter();
  readonly connected = true;
  /** Another process appending to the same store (a CLI's import) is found by polling only. */
  readonly hearsAppends = false;

  constructor() {
    this.#emitter.setMaxListeners(0);
  }

  publish(projection: string, position: number): void {
    this.#emitter.emit('position', projection, position);
  }

  listen(listener: PositionListener): () => void {
    this.#emitter.on('position', listener);
    return () => this.#emitter.off('position', listener);
  }

  /** In one process there is nobody else to tell: the store wakes its own subscriptions. */
  announceAppend(): void {}

  listenAppends(): () => void {
    return () => undefined;
  }

  async close(): Promise<void> {
    this.#emitter.removeAllListeners();
  }
}

interface PositionMessage {
  readonly projection: string;
  readonly position: number;
}

function isPositionMessage(value: unknown): value is PositionMessage {
  const message = value as Partial<PositionMessage> | null;
  return typeof message === 'object' && message !== null
    && typeof message.projection === 'string' && Number.isSafeInteger(message.position);
}

/**
 * Core NATS (no JetStream: a missed position is superseded by the next one). Connects in the
 * background and keeps reconnecting; until connected, publishing is skipped and readers poll.
 */
export class NatsPositions implements ProjectionPositions {
  readonly #local = new InProcessPositions();
  #connection: NatsConnection | undefined;
  #subscription: Subscription | undefined;
  #appendSubscription: Subscription | undefined;
  readonly #appends = new EventEmitter();
  /** Marks this instance's announcements, so it does not wake its own store a second time. */
  readonly #instance = randomUUID();
  #closed = false;
  /** False between a disconnect and the reconnect that follows (the client keeps retrying). */
  #up = false;
  /** Subscribed to the announcements of appends since the last (re)connect; false from a disconnect on (what is announced meanwhile is lost). */
  #hearing = false;
  readonly #connecting: Promise<void>;

  constructor(private readonly url: string, private readonly onError: (error: unknown) => void = () => undefined) {
    this.#connecting = this.#connect();
  }

  get connected(): boolean {
    return this.#up && this.#connection !== undefined && !this.#connection.isClosed();
  }

  get hearsAppends(): boolean {
    return this.#hearing && this.connected;
  }

  async #watch(connection: NatsConnection): Promise<void> {
    for await (const status of connection.status()) {
      // Stale comes first: the disconnect that follows waits on a socket write a hung server may never take.
      if (status.type === Events.Disconnect || status.type === DebugEvents.StaleConnection) {
        this.#up = false;
        this.#hearing = false;
      } else if (status.type === Events.Reconnect) {
        this.#up = true;
        // The client subscribes again as it reconnects: heard once the server has that (a round trip).
        connection.flush().then(() => {
          if (this.#up) this.#hearing = true;
        }, (error: unknown) => this.onError(error));
      }
    }
  }

  /** Resolves once connected (or closed); for start-up code and tests that want NATS from the start. */
  async ready(): Promise<void> {
    await this.#connecting;
  }

  async #connect(): Promise<void> {
    let waitMs = 250;
    while (!this.#closed) {
      try {
        const connection = await connect({
          servers: this.url, maxReconnectAttempts: -1, reconnectTimeWait: 500, name: 'boxoffice',
          pingInterval: NATS_PING_INTERVAL_MS, maxPingOut: NATS_MAX_PINGS_OUT,
        });
        if (this.#closed) {
          await connection.close();
          return;
        }
        this.#connection = connection;
        this.#up = true;
        void this.#watch(connection).catch((error: unknown) => this.onError(error));
        this.#subscription = connection.subscribe(`${POSITION_SUBJECT_PREFIX}.*`, {
          callback: (error, message) => {
            if (error !== null) return this.onError(error);
            try {
              const decoded: unknown = message.json();
              if (isPositionMessage(decoded)) this.#local.publish(decoded.projection, decoded.position);
            } catch (decodeError) {
              this.onError(decodeError);
            }
          },
        });
        this.#appendSubscription = connection.subscribe(APPENDED_SUBJECT, {
          callback: (error, message) => {
            if (error !== null) return this.onError(error);
            const [position, instance] = message.string().split(' ');
            if (instance !== this.#instance && Number.isSafeInteger(Number(position))) this.#appends.emit('appended', Number(position));
          },
        });
        // The server has the subscription once a round trip has passed: from then on nothing is missed.
        // A flush cut short by a disconnect leaves the client reconnecting; #watch hears it come back.
        await connection.flush().then(() => {
          if (this.#up) this.#hearing = true;
        }, (error: unknown) => this.onError(error));
        return;
      } catch (error) {
        this.onError(error);
        await new Promise((resolve) => setTimeout(resolve, waitMs));
        waitMs = Math.min(waitMs * 2, 5_000);
      }
    }
  }

  publish(projection: string, position: number): void {
    const connection = this.#connection;
    if (connection === undefined || connection.isClosed()) return;
    try {
      connection.publish(`${POSITION_SUBJECT_PREFIX}.${projection}`, JSON.stringify({ projection, position }));
    } catch (error) {
      this.onError(error);
    }
  }

  listen(listener: PositionListener): () => void {
    return this.#local.listen(listener);
  }

  announceAppend(position: number): void {
    const connection = this.#connection;
    if (connection === undefined || connection.isClosed()) return;
    try {
      connection.publish(APPENDED_SUBJECT, `${position} ${this.#instance}`);
    } catch (error) {
      this.onError(error);
    }
  }

  listenAppends(listener: (position: number) => void): () => void {
    this.#appends.on('appended', listener);
    return () => this.#appends.off('appended', listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    // A connect to a hung server waits for the client's own timeout (20 s); one that ends after this closes itself.
    await withTimeout(this.#connecting, NATS_DRAIN_LIMIT_MS).catch(() => undefined);
    this.#subscription?.unsubscribe();
    this.#appendSubscription?.unsubscribe();
    this.#appends.removeAllListeners();
    // Draining waits for the server, which may be hung without that being known yet: for a while only.
    const connection = this.#connection;
    if (connection !== undefined && this.connected) await withTimeout(connection.drain(), NATS_DRAIN_LIMIT_MS).catch(() => undefined);
    // Always: a drain cut short by a disconnect resolves too, and would leave the client reconnecting.
    await connection?.close();
    await this.#local.close();
  }
}
