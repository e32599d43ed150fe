/**
 * How a server process stops: on the first SIGTERM or SIGINT, whenever it comes. What start-up
 * opened is closed in the reverse order it was opened, and the process exits 0 when every step
 * closed cleanly, 1 when one did not, or when the stop outlived its deadline.
 *
 * - A signal during start-up does not race it: start-up asks `stopping` between its steps and
 *   goes no further, and the stop closes what it had opened by then. Before, the stop closed the
 *   HTTP server while start-up went on to listen on it, which ended in "failed to start". A step
 *   that fails meanwhile is logged, and the stop goes on (and exits 1).
 * - A signal that comes again within a second is logged and ignored: a terminal's Ctrl-C or a
 *   SIGTERM to `npm start`'s group reaches this process twice at once (npm relays the one it
 *   got). One that comes later is a person asking again (Ctrl-C twice): the process exits 1 at
 *   once, naming the step it gave up on. An orchestrator signals once, then kills.
 * - A start-up that fails with no signal logs why and closes what it had opened, newest first,
 *   before the error ends the process: reactors and projectors it had started stop between
 *   their batches. A signal meanwhile is a stop like any other: the closing goes on.
 * - The deadline covers the whole stop: each closer of the wiring has a time limit of its own
 *   (closers.ts), but they run one after another, and draining the HTTP requests has none. A
 *   start-up step a signal interrupts gets a shorter one (a migration waits up to 120 s for its
 *   lock). Past either, the step still running is logged and the process exits 1, before an
 *   orchestrator's grace period ends in a SIGKILL that says nothing.
 */
import type { Logger } from 'pino';

/** The whole stop's limit: under compose's stop_grace_period (45 s), over one closer's limit (30 s). */
export const STOP_DEADLINE_MS = 40_000;
/** How long a start-up step a signal came during may go on before the process gives it up. */
export const START_UP_STEP_DEADLINE_MS = 10_000;
/** A signal that comes again sooner was relayed (npm, the terminal's process group); later, someone asked twice. */
export const RELAYED_SIGNAL_WINDOW_MS = 1_000;

export interface StopOptions {
  readonly deadlineMs?: number;
  readonly startUpStepDeadlineMs?: number;
  readonly relayedSignalWindowMs?: number;
  /** Where the signals come from and how the process ends (a spec passes its own). */
  readonly process?: Pick<NodeJS.EventEmitter, 'on'> & { exit(code: number): void };
}

interface Step {
  readonly name: string;
  /** Resolves to whether it closed cleanly; a step that throws did not. */
  readonly close: () => Promise<boolean>;
}

export class ProcessStop {
  readonly #steps: Step[] = [];
  readonly #deadlineMs: number;
  readonly #startUpStepDeadlineMs: number;
  readonly #relayedSignalWindowMs: number;
  readonly #process: NonNullable<StopOptions['process']>;
  #signal: NodeJS.Signals | null = null;
  #signalledAt = 0;
  /** Closing after a start-up that failed: the code the process ends with if it cannot wait for that. */
  #failedExitCode: number | null = null;
  #startedUp = false;
  /** Whether something already failed: a start-up step the stop interrupted. */
  #unclean = false;
  /** What the stop is waiting for, named in the log when a deadline passes. */
  #pending = 'start-up';
  readonly #deadlines: NodeJS.Timeout[] = [];
  #ended = false;

  constructor(private readonly log: Logger, options: StopOptions = {}) {
    this.#deadlineMs = options.deadlineMs ?? STOP_DEADLINE_MS;
    this.#startUpStepDeadlineMs = options.startUpStepDeadlineMs ?? START_UP_STEP_DEADLINE_MS;
    this.#relayedSignalWindowMs = options.relayedSignalWindowMs ?? RELAYED_SIGNAL_WINDOW_MS;
    this.#process = options.process ?? process;
    this.#process.on('SIGTERM', this.#onSignal);
    this.#process.on('SIGINT', this.#onSignal);
  }

  /** Whether a signal came: start-up stops at its next step and calls startedUp(). */
  get stopping(): boolean {
    return this.#signal !== null;
  }

  /** Something start-up opened; `close` resolves to whether it closed cleanly. */
  opened(name: string, close: () => Promise<boolean>): void {
    this.#steps.push({ name, close });
  }

  /** Start-up is over, run to its end or cut short by a signal: a signal that came meanwhile is acted on now. */
  startedUp(): void {
    this.#startedUp = true;
    if (this.#signal !== null) void this.#stop();
  }

  /** A start-up step failed after a signal came (the stop may have caused it): logged, and the stop goes on. */
  startUpFailed(error: unknown): void {
    this.log.error({ err: error }, 'start-up failed while stopping');
    this.#unclean = true;
    this.startedUp();
  }

  /**
   * Start-up failed with no signal: the error is logged, what start-up had opened is closed,
   * newest first, and this resolves to whether every step closed cleanly; the caller then
   * reports the error and ends the process with `exitCode`. Should the closing outlive the
   * stop's deadline, or a signal come twice meanwhile, the process ends with `exitCode` itself.
   */
  async closeAfterFailedStartUp(error: unknown, exitCode: number): Promise<boolean> {
    this.#failedExitCode = exitCode;
    this.log.error({ err: error }, 'failed to start; closing what start-up opened');
    this.#exitAfter(this.#deadlineMs);
    const clean = await this.#closeSteps();
    this.log.info({ clean }, 'closed after a failed start-up');
    this.#clearDeadlines();
    return clean;
  }

  readonly #onSignal = (signal: NodeJS.Signals): void => {
    if (this.#signal !== null) {
      if (performance.now() - this.#signalledAt < this.#relayedSignalWindowMs) {
        this.log.info({ signal }, 'already shutting down');
        return;
      }
      this.log.error({ signal, pending: this.#pending }, 'signalled again: exiting without waiting for the stop');
      this.#end(1);
      return;
    }
    this.#signal = signal;
    this.#signalledAt = performance.now();
    this.log.info({ signal, ...(this.#startedUp ? {} : { duringStartUp: true }) }, 'shutting down');
    // Already closing after a failed start-up, under the stop's deadline: the signal changes nothing.
    if (this.#failedExitCode !== null) return;
    this.#exitAfter(this.#deadlineMs);
    if (this.#startedUp) void this.#stop();
    else this.#exitAfter(this.#startUpStepDeadlineMs, () => !this.#startedUp);
  };

  /** Exits 1 after `ms`, naming what is pending, unless the stop ended first or `still()` says otherwise. */
  #exitAfter(ms: number, still: () => boolean = () => true): void {
    this.#deadlines.push(setTimeout(() => {
      if (!still()) return;
      this.log.error({ pending: this.#pending, deadlineMs: ms }, 'stopping took too long; exiting without waiting for it');
      this.#end(1);
    }, ms));
  }

  async #stop(): Promise<void> {
    const clean = await this.#closeSteps() && !this.#unclean;
    this.log.info({ clean }, 'stopped');
    // Something was left unclosed (each is logged): an orchestrator sees a shutdown that was not clean.
    this.#end(clean ? 0 : 1);
  }

  /** Closes every step opened, newest first; resolves to whether each closed cleanly. */
  async #closeSteps(): Promise<boolean> {
    let clean = true;
    for (const { name, close } of this.#steps.splice(0).reverse()) {
      this.#pending = name;
      try {
        if (!(await close())) clean = false;
      } catch (error) {
        this.log.error({ err: error, step: name }, 'closing failed; closing the rest');
        clean = false;
      }
    }
    return clean;
  }

  #end(code: number): void {
    if (this.#ended) return;
    // A failed start-up ends as its caller would have ended it (a bad variable: 2).
    if (code !== 0 && this.#failedExitCode !== null) code = this.#failedExitCode;
    this.#ended = true;
    this.#clearDeadlines();
    this.#process.exit(code);
  }

  #clearDeadlines(): void {
    for (const deadline of this.#deadlines.splice(0)) clearTimeout(deadline);
  }
}
