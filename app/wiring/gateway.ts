/**
 * The payment gateway a command role takes money through, as PAYMENT_GATEWAY chose it. The
 * sandbox pays nothing: it is the embedded default's only (lib/config.ts `paymentGatewayOf`),
 * and any other start must choose it on purpose (`checkPaymentGateway`, before anything is wired).
 * An operator's command on real services with none chosen wires `none`: a gateway that refuses
 * every call, naming PAYMENT_GATEWAY (the command API refuses to be served with it).
 */
import type { PaymentGateway } from '../../command-api/payments/gateway.ts';
import { MidtransGateway } from '../../command-api/payments/midtrans-gateway.ts';
import { SandboxGateway } from '../../command-api/payments/sandbox-gateway.ts';
import type { EventStore } from '../../eventstore/port.ts';
import { ConfigError, paymentGatewayOf, SETTINGS, type Config } from '../../lib/config.ts';
import type { ReadinessCheck } from '../../lib/http/health.ts';

export interface ChosenGateway {
  readonly name: 'sandbox' | 'midtrans' | 'none';
  readonly gateway: PaymentGateway;
}

export function openGateway(config: Config, sandbox: { readonly store: EventStore; readonly webhookSecret: string }): ChosenGateway {
  switch (paymentGatewayOf(config)) {
    case 'sandbox':
      return { name: 'sandbox', gateway: new SandboxGateway(config.publicUrl, sandbox) };
    case 'midtrans': {
      const { serverKey, apiUrl, snapUrl } = config.midtrans;
      // checkPaymentGateway made sure of the key; the base URLs default to Midtrans's own.
      if (serverKey === null) throw new ConfigError(SETTINGS.midtrans.serverKey.variable, 'must be set with PAYMENT_GATEWAY=midtrans');
      return {
        name: 'midtrans',
        // Each order names where its notifications go: this deployment's webhook.
        gateway: new MidtransGateway({ serverKey, apiUrl, snapUrl, notificationUrl: `${config.publicUrl}/api/v1/payments/webhook/midtrans` }),
      };
    }
    case null:
      // checkPaymentGateway refused it for a server; an operator's command that reaches no gateway needs none.
      return { name: 'none', gateway: NO_GATEWAY };
  }
}

const unchosen = (): Promise<never> => Promise.reject(new ConfigError(SETTINGS.paymentGateway.variable, 'must be set: midtrans takes real payments, sandbox pays nothing (free tickets)'));

/** No gateway chosen: every call that would reach one refuses, naming PAYMENT_GATEWAY. */
const NO_GATEWAY: PaymentGateway = {
  createPayment: unchosen,
  transactionStatus: unchosen,
  refund: unchosen,
  checkNotification: () => null,
};

/** What /health/ready says of payments: `simulated` under the sandbox (still ready), so a monitor sees free tickets. */
export function gatewayReadiness(config: Config): Readonly<Record<string, ReadinessCheck>> {
  return paymentGatewayOf(config) === 'sandbox' ? { payments: async () => 'simulated' } : {};
}
