#!/usr/bin/env node
// Runs Envoi's TypeScript sources directly (no build step), so a fresh clone needs only `npm ci`.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
