/**
 * The payment gateway a command role takes money through, as PAYMENT_GATEWAY chose it. The
 * sandbox pays nothing: it is the embedded default's only (lib/config.ts `paymentGatewayOf`),
 * and any other start must choose it on purpose (`checkPaymentGateway`).
 */
import type { PaymentGateway } from '../../command-api/payments/gateway.ts';
import { SandboxGateway } from '../../command-api/payments/sandbox-gateway.ts';
import { checkPaymentGateway, ConfigError, paymentGatewayOf, SETTINGS, type Config } from '../../lib/config.ts';
import type { ReadinessCheck } from '../../lib/http/health.ts';

export function openGateway(config: Config): PaymentGateway {
  checkPaymentGateway(config);
  switch (paymentGatewayOf(config)) {
    case 'sandbox':
      return new SandboxGateway(config.publicUrl);
    case 'midtrans':
      throw new ConfigError(SETTINGS.paymentGateway.variable, 'is midtrans, which is not available in this build');
    case null:
      // checkPaymentGateway refused it for a process that takes payments; nothing else opens a gateway.
      throw new ConfigError(SETTINGS.paymentGateway.variable, 'must be set: midtrans takes real payments, sandbox pays nothing (free tickets)');
  }
}

/** What /health/ready says of payments: `simulated` under the sandbox (still ready), so a monitor sees free tickets. */
export function gatewayReadiness(config: Config): Readonly<Record<string, ReadinessCheck>> {
  return paymentGatewayOf(config) === 'sandbox' ? { payments: async () => 'simulated' } : {};
}
