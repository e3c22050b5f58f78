#!/usr/bin/env node
// Loads the TypeScript entry in this process through tsx, so `onbehalf` needs no build step
// and signals reach the product directly.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
