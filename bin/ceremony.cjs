#!/usr/bin/env node
// The `ceremony` command. Runs the TypeScript sources through tsx so it works straight after
// `npm ci`, with no build step.
'use strict'
require('tsx/cjs/api').register()
require('../main/cli/index.ts')
