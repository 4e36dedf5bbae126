#!/usr/bin/env node
// The `hindsight` command. It runs the compiled CLI, which `npm install` builds (`tsc -b`);
// this file exists before the build so that npm can link the command at install time.
import '../dist/cli.js';
