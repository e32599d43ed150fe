/**
 * One process's wiring: what every role it plays shares (opened once), then each role's own
 * wiring, in dependency order. The embedded all-in-one plays every role; `serve --role R` one.
 * Nothing is changed after it is handed out; `close()` closes everything in reverse order.
 */
import type { Logger } from 'pino';
import { plays, type Config } from '../../lib/config.ts';
import type { ReadinessCheck } from '../../lib/http/health.ts';
import type { RevocationList } from '../../lib/security/revocations.ts';
import type { Sessions } from '../../lib/security/sessions.ts';
import { RequestedRebuilds } from '../../read-models/projection-admin.ts';
import { Closers } from './closers.ts';
import { wireCommand, type CommandRole } from './command.ts';
import { wireProjector, type ProjectorRole } from './projector.ts';
import { wireQuery, type QueryRole } from './query.ts';
import { openReadModels, openServing, openShared, type Shared } from './shared.ts';

export interface Wired {
  readonly shared: Shared;
  readonly command: CommandRole | undefined;
  readonly query: QueryRole | undefined;
  readonly projector: ProjectorRole | undefined;
  /** How the HTTP server checks tokens: the roles that serve signed-in users have it. */
  readonly auth: { readonly secret: string; readonly revocations: RevocationList; readonly sessions: Sessions } | undefined;
  /** Every dependency of the roles played, for /health/ready. */
  readonly readiness: Readonly<Record<string, ReadinessCheck>>;
  /** Starts the background work of every role played (reactors, expirer, projections). */
  start(): void;
  /** Closes everything; answers the names of what failed to close or was given up (none: a clean close). */
  close(): Promise<string[]>;
}

export type AllRoles = Wired & { readonly command: CommandRole; readonly query: QueryRole; readonly projector: ProjectorRole; readonly auth: NonNullable<Wired['auth']> };

export interface WireOptions {
  /** The clock (tests move it). */
  readonly now?: () => Date;
  /** Released holds each concert remembers (RELEASED_HOLDS_KEPT); a spec asks for a few, to see them forgotten. */
  readonly releasedHoldsKept?: number;
}

export async function wireProcess(config: Config, logger: Logger, options: WireOptions = {}): Promise<Wired> {
  const closers = new Closers(logger);
  try {
    const shared = await openShared(config, logger, closers, options.now);
    const readModels = plays(config, 'query') || plays(config, 'projector') ? await openReadModels(config, closers) : undefined;
    // The projector serves no signed-in user: it loads no secret and opens no personal data.
    const serving = plays(config, 'command') || plays(config, 'query') ? await openServing(shared, closers) : undefined;

    const projector = readModels !== undefined && plays(config, 'projector') ? await wireProjector(shared, readModels, closers) : undefined;
    const command = serving !== undefined && plays(config, 'command') ? await wireCommand(shared, serving, closers, options.releasedHoldsKept) : undefined;
    const query = readModels !== undefined && serving !== undefined && plays(config, 'query')
      ? await wireQuery(shared, {
        readModels,
        personalData: serving.personalData,
        ticketSigningKeys: serving.secrets.ticketSigningKeys,
        personalDataDigestKey: serving.secrets.personalDataDigestKey,
        jwtSecret: serving.secrets.jwtSecret,
        // In the process that runs the projections, the admin route drives them; else it leaves a request.
        projections: projector?.projectors ?? new RequestedRebuilds(readModels, () => shared.store.headPosition(), shared.now),
      }, closers)
      : undefined;

    return {
      shared,
      command,
      query,
      projector,
      auth: serving === undefined ? undefined : { secret: serving.secrets.jwtSecret, revocations: serving.revocations, sessions: serving.sessions },
      readiness: { ...projector?.readiness, ...query?.readiness, ...command?.readiness },
      start: () => {
        command?.start();
        projector?.start();
      },
      close: () => closers.close(),
    };
  } catch (error) {
    await closers.close();
    throw error;
  }
}

/** The embedded all-in-one's wiring, every role present (tests, the CLI). */
export function everyRole(wired: Wired): AllRoles {
  const { command, query, projector, auth } = wired;
  if (command === undefined || query === undefined || projector === undefined || auth === undefined) {
    throw new Error(`this process plays ${wired.shared.config.role}, not every role`);
  }
  return { ...wired, command, query, projector, auth };
}
