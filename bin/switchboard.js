#!/usr/bin/env node
'use strict';
require('../dist/client/cli.js')
  .main(process.argv)
  .catch((err) => {
    process.stderr.write(`switchboard: ${err && err.message ? err.message : err}\n`);
    process.exitCode = 1;
  });
