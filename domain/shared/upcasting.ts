import type { EventMetadata } from './event.ts';

/** Turns the data of version N of an event into the data of version N + 1. */
export type Upcaster = (data: Readonly<Record<string, unknown>>) => Record<string, unknown>;

export interface EventVersioning {
  /** The version the code writes today. */
  readonly current: number;
  /** `steps[n]` upgrades version n to n + 1; one step for every version below `current`. */
  readonly steps: Readonly<Record<number, Upcaster>>;
}

export interface StoredEvent {
  readonly type: string;
  readonly data: unknown;
  readonly metadata: EventMetadata;
}

/**
 * Old event versions are upcast when read, never rewritten in the store. A type without an
 * entry is at version 1.
 */
export class UpcasterRegistry {
  readonly #versions: ReadonlyMap<string, EventVersioning>;

  constructor(versions: Readonly<Record<string, EventVersioning>>) {
    for (const [type, { current, steps }] of Object.entries(versions)) {
      for (let version = 1; version < current; version++) {
        if (typeof steps[version] !== 'function') {
          throw new Error(`${type}: no upcaster from version ${version} to ${version + 1}`);
        }
      }
    }
    this.#versions = new Map(Object.entries(versions));
  }

  currentVersion(type: string): number {
    return this.#versions.get(type)?.current ?? 1;
  }

  upcast<E extends StoredEvent>(event: E): E {
    const versioning = this.#versions.get(event.type);
    const current = versioning?.current ?? 1;
    const from = event.metadata.schema_version;
    if (from === current) return event;
    if (from > current || versioning === undefined) {
      throw new Error(`${event.type} v${from} is newer than this code understands (v${current})`);
    }
    if (!isRecord(event.data)) throw new Error(`${event.type} v${from}: its data is not an object`);
    let data: Readonly<Record<string, unknown>> = event.data;
    for (let version = from; version < current; version++) {
      // Constructor checked that every step exists.
      data = (versioning.steps[version] as Upcaster)(data);
    }
    return { ...event, data, metadata: { ...event.metadata, schema_version: current } };
  }
}

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
