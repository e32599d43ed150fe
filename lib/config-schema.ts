/**
 * How a configuration is declared and read: each environment variable once, as a Setting (its
 * name, meaning, kind of value and default) placed at the field of the configuration it fills.
 * The configuration's type (`ConfigOf`), its reading and validation (`readSettings`) and its
 * documentation (lib/config-docs.ts) all come from the one declaration in lib/config.ts.
 */

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly variable: string, message: string) {
    super(`Invalid configuration: ${variable} ${message}`);
  }
}

/** How the text of a variable becomes a value. */
export interface Kind<T> {
  /** Completes "VARIABLE must be …", and is the README's "value" column. */
  readonly accepts: string;
  /** The text must match it first (with the `u` flag, as a JSON Schema pattern). */
  readonly pattern: string;
  /** Converts matched text; throws a ConfigError naming `variable` when it is still wrong (a range, a URL). */
  readonly parse: (text: string, variable: string) => T;
}

/** What an unset (or empty) variable gives. */
export type Fallback<T> =
  /** This text, read as if it had been set. */
  | { readonly text: string }
  /** No value (null); `shown` says what happens instead, for the README. */
  | { readonly none: string }
  /** A value worked out from the settings that are not computed themselves (read first). */
  | { readonly compute: (config: object) => T; readonly shown: string };

/** One environment variable and the Config field it fills. */
export class Setting<T> {
  constructor(
    readonly variable: string,
    /** What it is for, in a new user's words (the README's "meaning" column). */
    readonly meaning: string,
    readonly kind: Kind<T>,
    readonly fallback: Fallback<T>,
  ) {}
}

/** Variables set all together or not at all: the field is null when none is set. */
export class Together<G extends Readonly<Record<string, Setting<unknown>>>> {
  constructor(readonly members: G) {}
}

export interface Settings {
  readonly [field: string]: Setting<unknown> | Together<Readonly<Record<string, Setting<unknown>>>> | Settings;
}

/** A variable with a default: unset, it reads as `text`. */
export const withDefault = <T>(variable: string, meaning: string, kind: Kind<T>, text: string): Setting<T> =>
  new Setting(variable, meaning, kind, { text });
/** A variable that may stay unset (null); `shown` says what happens then. */
export const optional = <T>(variable: string, meaning: string, kind: Kind<T>, shown: string): Setting<T | null> =>
  new Setting<T | null>(variable, meaning, kind, { none: shown });
/**
 * A variable whose default is worked out from settings that are not computed themselves. `compute`
 * names the fields it reads in its parameter's type (SETTINGS cannot name Config, which it defines).
 */
export const computed = <T, C extends object>(variable: string, meaning: string, kind: Kind<T>, shown: string, compute: (config: C) => T): Setting<T> =>
  new Setting(variable, meaning, kind, { compute: compute as (config: object) => T, shown });
/** A member of a `together` group: always set when the group is. */
export const member = <T>(variable: string, meaning: string, kind: Kind<T>): Setting<T> =>
  new Setting(variable, meaning, kind, { none: 'none' });
export const together = <G extends Readonly<Record<string, Setting<unknown>>>>(members: G): Together<G> => new Together(members);

// The kinds of value.

export const text = (accepts: string, pattern: string): Kind<string> => ({ accepts, pattern, parse: (value) => value });

export const oneOf = <const V extends string>(values: readonly V[]): Kind<V> => ({
  accepts: `one of ${values.join(', ')}`,
  pattern: `^(${values.join('|')})$`,
  parse: (value) => value as V,
});

export const flag = (on: string, off: string): Kind<boolean> => ({ accepts: `${on} or ${off}`, pattern: `^(${on}|${off})$`, parse: (value) => value === on });

export const wholeNumber = (min: number, max: number, of?: string): Kind<number> => ({
  accepts: `a whole number${of === undefined ? '' : ` of ${of}`} (${min}-${max})`,
  pattern: '^[0-9]+$',
  parse: (value, variable) => {
    const number = Number(value);
    if (!Number.isSafeInteger(number) || number < min || number > max) {
      throw new ConfigError(variable, `must be a whole number from ${min} to ${max} (got ${JSON.stringify(value)})`);
    }
    return number;
  },
});

export const secret = (minLength: number, noun = 'a secret'): Kind<string> => text(`${noun} of at least ${minLength} characters`, `^.{${minLength},}$`);

/** A URL the WHATWG parser accepts, beginning as `pattern` says. */
export const url = (accepts: string, pattern: string): Kind<string> => ({ accepts, pattern, parse: checkedUrl });

export function checkedUrl(value: string, variable: string): string {
  try {
    new URL(value);
  } catch {
    throw new ConfigError(variable, `must be a URL (got ${JSON.stringify(value)})`);
  }
  return value;
}

export const urlList = (accepts: string, pattern: string): Kind<readonly string[]> => ({
  accepts, pattern, parse: (value, variable) => value.split(',').map((each) => checkedUrl(each, variable)),
});

/** The value type of a declaration: a setting's value, a group's values or null, a nested object's fields. */
export type ConfigOf<S> = {
  readonly [K in keyof S]: S[K] extends Setting<infer T> ? T
    : S[K] extends Together<infer G> ? ConfigOf<G> | null
      : ConfigOf<S[K]>;
};

/** Every declared variable in declaration order, with the others it must be set together with. */
export function* declaredVariables(settings: Settings): Generator<{ readonly setting: Setting<unknown>; readonly partners: readonly string[] }> {
  for (const declared of Object.values(settings)) {
    if (declared instanceof Setting) {
      yield { setting: declared, partners: [] };
    } else if (declared instanceof Together) {
      const members = Object.values(declared.members);
      for (const setting of members) yield { setting, partners: members.filter((other) => other !== setting).map((other) => other.variable) };
    } else {
      yield* declaredVariables(declared);
    }
  }
}

/**
 * Reads `settings` from `env`: only the declared variables, an empty value counting as unset;
 * throws a ConfigError naming the first bad variable (every pattern is checked before any
 * conversion, range or URL check).
 */
export function readSettings<S extends Settings>(settings: S, env: NodeJS.ProcessEnv): ConfigOf<S> {
  const raw = pickDeclared(settings, env);
  for (const { setting } of declaredVariables(settings)) {
    const text = raw.get(setting.variable);
    if (text !== undefined && !new RegExp(setting.kind.pattern, 'u').test(text)) {
      throw new ConfigError(setting.variable, `must be ${setting.kind.accepts} (got ${JSON.stringify(text)})`);
    }
  }
  const computations: ((config: object) => void)[] = [];
  const config = build(settings, raw, computations);
  for (const compute of computations) compute(config);
  return config as ConfigOf<S>;
}

/** Only the declared variables, and an empty value counts as unset (as `FOO= npm start` means). */
function pickDeclared(settings: Settings, env: NodeJS.ProcessEnv): Map<string, string> {
  const raw = new Map<string, string>();
  for (const { setting } of declaredVariables(settings)) {
    const value = env[setting.variable];
    if (value !== undefined && value !== '') raw.set(setting.variable, value);
  }
  return raw;
}

/** The values of `settings` read from `raw`; computed defaults are left to `computations`, run once the rest is read. */
function build(settings: Settings, raw: ReadonlyMap<string, string>, computations: ((config: object) => void)[]): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [field, declared] of Object.entries(settings)) {
    if (declared instanceof Setting) {
      const { variable, kind, fallback } = declared;
      const text = raw.get(variable);
      if (text !== undefined) values[field] = kind.parse(text, variable);
      else if ('text' in fallback) values[field] = kind.parse(fallback.text, variable);
      else if ('none' in fallback) values[field] = null;
      else {
        values[field] = undefined; // keeps the field in declaration order
        computations.push((config) => { values[field] = fallback.compute(config); });
      }
    } else if (declared instanceof Together) {
      const members = Object.values(declared.members);
      const unset = members.find((member) => !raw.has(member.variable));
      if (unset === undefined) {
        values[field] = build(declared.members, raw, computations);
      } else if (members.some((member) => raw.has(member.variable))) {
        const partners = members.length === 2 ? 'its partner' : 'its partners';
        throw new ConfigError(unset.variable, `must be set together with ${partners} (${members.map((member) => member.variable).join(' and ')})`);
      } else {
        values[field] = null;
      }
    } else {
      values[field] = build(declared, raw, computations);
    }
  }
  return values;
}
