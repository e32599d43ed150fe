/**
 * The command path of the account service, telling the sessions (lib/security/sessions.ts) of
 * every change to a user that touches their tokens: the change is marked for every instance
 * before it is appended (a change whose mark could not be written is not made, so no change
 * escapes the check), and this instance learns the new record at once after any user command.
 */
import type { CommandContext, Decider, DomainEvent } from '../../domain/index.ts';
import { userDecider, type UserCommand, type UserState } from '../../domain/user/index.ts';
import type { EventStore } from '../../eventstore/port.ts';
import { sessionOf, type Sessions } from '../../lib/security/sessions.ts';
import { AppError } from '../../lib/errors.ts';
import { CommandHandler, type Executed } from '../command-handler.ts';

const USER_STREAM = /^user-(.+)$/;

/**
 * Whether a command can make a live token say more than the user now is. A rehash of the same
 * password at sign-in changes nothing a token carries. A verification only makes the record
 * better than a token that says "not verified", which is checked against the stream where it
 * matters (booking): not marked, so the many fresh sign-ups of a sale are not read on every request.
 */
function touchesSessions(command: UserCommand): boolean {
  switch (command.type) {
    case 'ChangePassword':
      return command.rehash !== true;
    case 'ChangeEmail':
    case 'ChangeRole':
    case 'ForgetPersonalData':
      return true;
    case 'RegisterUser':
    case 'VerifyEmail':
    case 'RecordLogin':
    case 'AbandonRegistration':
    case 'LapseEmailClaim':
      return false;
  }
}

export class SessionTellingCommands extends CommandHandler {
  constructor(store: EventStore, private readonly sessions: Sessions) {
    super(store);
  }

  override async execute<C, E extends DomainEvent, S>(
    stream: string,
    decider: Decider<C, E, S>,
    command: C | ((state: S) => C | Promise<C>),
    context: CommandContext,
  ): Promise<Executed<E, S>> {
    const userId = USER_STREAM.exec(stream)?.[1];
    const isUser = userId !== undefined && (decider as unknown) === userDecider;
    // A command worked out from the state is not known yet: marked, to be safe.
    const touches = isUser && (typeof command === 'function' || touchesSessions(command as UserCommand));
    if (touches) {
      try {
        await this.sessions.changing(userId);
      } catch (error) {
        // Redis (or the SQL keys) out of reach: the change waits for it rather than escape the token check.
        throw new AppError('ACCOUNTS_UNAVAILABLE', 'account changes are paused for a moment; try again shortly', { retryAfterSeconds: 5, cause: error });
      }
    }
    const executed = await super.execute(stream, decider, command, context);
    // The record as it now is: true for any user command, marked or not.
    if (isUser) this.sessions.changed(userId, sessionOf(executed.state as UserState));
    return executed;
  }
}
