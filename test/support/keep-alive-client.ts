/**
 * An HTTP client for crowds: one keep-alive agent with a bounded number of sockets per server, so
 * thousands of simulated visitors share a few connections (as they would share a CDN's) instead
 * of opening one per request; requests beyond the bound wait in the agent's queue. Every answer is
 * counted by status and problem code, a request that got no answer as status 0.
 */
import { Agent, request } from 'node:http';
import { Tally } from '../load/flash-sale.ts';

export interface Answer {
  readonly status: number;
  /** The body parsed (an array's elements under their indices), or {} when it was not JSON. */
  readonly json: Record<string, unknown>;
  /** The Retry-After header in seconds, when the answer had one. */
  readonly retryAfter: number | null;
}

export interface Send {
  readonly token?: string;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

export class KeepAliveClient {
  readonly tally = new Tally();
  private readonly agent: Agent;

  constructor(socketsPerServer: number) {
    this.agent = new Agent({ keepAlive: true, maxSockets: socketsPerServer });
  }

  send(base: string, method: string, path: string, { token, body, headers = {} }: Send = {}): Promise<Answer> {
    const raw = body === undefined ? undefined : JSON.stringify(body);
    const url = new URL(path, base);
    return new Promise<Answer>((resolve) => {
      const outgoing = request(url, {
        method,
        agent: this.agent,
        timeout: 60_000,
        headers: {
          ...(raw === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(raw) }),
          ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
          ...headers,
        },
      }, (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('error', (error) => finish(0, String(error), null));
        incoming.on('end', () => {
          const retryAfter = incoming.headers['retry-after'];
          finish(incoming.statusCode ?? 0, Buffer.concat(chunks).toString(), retryAfter === undefined ? null : Number(retryAfter));
        });
      });
      let done = false;
      const finish = (status: number, text: string, retryAfter: number | null): void => {
        if (done) return;
        done = true;
        let json: Record<string, unknown> = {};
        try {
          if (text.startsWith('{') || text.startsWith('[')) json = JSON.parse(text) as Record<string, unknown>;
        } catch {
          json = { unparsed: text.slice(0, 200) };
        }
        this.tally.count(status, status === 0 ? 'NO_ANSWER' : status >= 400 ? String(json.code) : undefined);
        resolve({ status, json: status === 0 ? { error: text } : json, retryAfter });
      };
      outgoing.on('timeout', () => outgoing.destroy(new Error('no answer within 60 s')));
      outgoing.on('error', (error) => finish(0, String(error), null));
      outgoing.end(raw);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
