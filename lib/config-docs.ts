/**
 * The README's configuration table, rendered from the declarations in lib/config.ts so the two
 * cannot drift (lib/config-docs.unit.spec.ts fails when they do). `npm run docs:config` rewrites
 * the table in README.md between the markers.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SETTINGS } from './config.ts';
import { declaredVariables, type Settings } from './config-schema.ts';

export const TABLE_START = '<!-- config:start -->';
export const TABLE_END = '<!-- config:end -->';

/** One row per variable, in declaration order: its name, meaning, accepted values and default. */
export function configTable(settings: Settings = SETTINGS): string {
  const rows = ['| variable | meaning | value | default |', '|---|---|---|---|'];
  for (const { setting, partners } of declaredVariables(settings)) {
    const { variable, meaning, kind, fallback } = setting;
    const together = partners.length === 0 ? '' : `; set together with ${partners.map((partner) => `\`${partner}\``).join(', ')}`;
    const byDefault = 'text' in fallback ? `\`${fallback.text}\`` : 'none' in fallback ? fallback.none : fallback.shown;
    rows.push(`| \`${variable}\` | ${cell(meaning + together)} | ${cell(plain(kind.accepts))} | ${cell(byDefault)} |`);
  }
  return rows.join('\n');
}

/** `readme` with the text between the markers replaced by the table. */
export function withConfigTable(readme: string, table: string = configTable()): string {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start === -1 || end < start) throw new Error(`README.md has no ${TABLE_START} … ${TABLE_END} section`);
  return `${readme.slice(0, start + TABLE_START.length)}\n${table}\n${readme.slice(end)}`;
}

/** A pipe would end the cell. */
const cell = (markdown: string): string => markdown.replaceAll('|', '\\|');
/** The accepted values are plain text (they end error messages too): keep `<…>` from reading as a link or tag. */
const plain = (text: string): string => text.replace(/[\\`*_<>[\]]/g, (character) => `\\${character}`);

export const README = fileURLToPath(new URL('../README.md', import.meta.url));

// `npm run docs:config`: rewrite the table in README.md.
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(README, withConfigTable(readFileSync(README, 'utf8')));
}
