export * from './events.ts';

/** One stream per imported old row (or batch of rows, e.g. a class's seats), appended once: a second run of the importer finds it and takes nothing twice. */
export const legacyStream = (kind: string, key: string | number): string => `legacy-${kind}-${key}`;
