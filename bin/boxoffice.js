#!/usr/bin/env node
// The `boxoffice` command: the compiled CLI when `npm run build` has made one (the Docker
// image), the TypeScript sources through tsx otherwise (a checkout).
import { existsSync } from 'node:fs';
import { URL } from 'node:url';

const compiled = new URL('../dist/app/cli/main.js', import.meta.url);
if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../app/cli/main.ts', import.meta.url).href);
}
