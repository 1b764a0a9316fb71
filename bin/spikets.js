#!/usr/bin/env node
// The spikets command line; the program lives in dist/src/cli/main.js (built by `npm run build`).
import { main } from '../dist/src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
