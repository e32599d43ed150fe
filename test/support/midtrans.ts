/**
 * The local Midtrans (test/harness/midtrans-server.ts) for a spec: the one the harness started
 * (MIDTRANS_LOCAL_URL, MIDTRANS_LOCAL_SERVER_KEY), or one of the spec's own, stopped by its
 * teardown. Its test-only control endpoints, as functions.
 */
import type { Test } from 'tap';
import { startLocalMidtrans, type LocalOrder, type ReceivedRequest } from '../harness/midtrans-server.ts';

export interface MidtransControl {
  readonly url: string;
  readonly serverKey: string;
  /** As a buyer at the checkout would: then the signed notification is sent; its delivery is answered. */
  act(orderId: string, action: 'pay' | 'decline' | 'expire' | 'notify', options?: { payment_type?: string; gross_amount?: number; sign_with?: string }): Promise<{ notification: Record<string, unknown>; delivery: { status: number | null; body: string; error?: string } }>;
  /** A notification of any fields, signed with the server key (or `sign_with`), sent to `notification_url`. */
  notify(fields: Record<string, unknown>): Promise<{ notification: Record<string, unknown>; delivery: { status: number | null; body: string; error?: string } }>;
  /** The next refund of the order is refused (Midtrans's 412) with this message. */
  refuseNextRefund(orderId: string, message: string): Promise<void>;
  order(orderId: string): Promise<LocalOrder | null>;
  /** Every API request it received so far. */
  requests(): Promise<ReceivedRequest[]>;
}

export async function localMidtrans(t: Test): Promise<MidtransControl> {
  let url = process.env['MIDTRANS_LOCAL_URL'];
  let serverKey = process.env['MIDTRANS_LOCAL_SERVER_KEY'];
  if (url === undefined || serverKey === undefined) {
    const own = await startLocalMidtrans();
    t.teardown(() => own.stop());
    url = own.url;
    serverKey = own.serverKey;
  }
  const base = url;
  const call = async <T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: T }> => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    return { status: response.status, json: (await response.json()) as T };
  };
  return {
    url: base,
    serverKey,
    act: async (orderId, action, options = {}) => {
      const answer = await call<{ notification: Record<string, unknown>; delivery: { status: number | null; body: string } }>('POST', `/__control/orders/${encodeURIComponent(orderId)}/${action}`, options);
      if (answer.status !== 200) throw new Error(`the local Midtrans refused ${action} of ${orderId}: ${answer.status} ${JSON.stringify(answer.json)}`);
      return answer.json;
    },
    notify: async (fields) => (await call<{ notification: Record<string, unknown>; delivery: { status: number | null; body: string } }>('POST', '/__control/notify', fields)).json,
    refuseNextRefund: async (orderId, message) => {
      const answer = await call('POST', `/__control/orders/${encodeURIComponent(orderId)}/refuse-refund`, { status_message: message });
      if (answer.status !== 200) throw new Error(`the local Midtrans refused refuse-refund of ${orderId}: ${answer.status}`);
    },
    order: async (orderId) => {
      const answer = await call<LocalOrder>('GET', `/__control/orders/${encodeURIComponent(orderId)}`);
      return answer.status === 200 ? answer.json : null;
    },
    requests: async () => (await call<ReceivedRequest[]>('GET', '/__control/requests')).json,
  };
}

/** The configuration of an app that takes money through the local Midtrans and listens on `port` for its notifications. */
export function midtransEnv(midtrans: MidtransControl, port: number): Record<string, string> {
  return {
    PAYMENT_GATEWAY: 'midtrans',
    MIDTRANS_SERVER_KEY: midtrans.serverKey,
    MIDTRANS_CLIENT_KEY: 'SB-Mid-client-local',
    MIDTRANS_API_URL: midtrans.url,
    MIDTRANS_SNAP_URL: midtrans.url,
    PUBLIC_URL: `http://127.0.0.1:${port}`,
  };
}
