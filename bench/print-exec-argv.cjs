// Preloaded (NODE_OPTIONS=--require) by bench/lib.ts's daemonFlags(): prints the flags node was
// started with, as JSON, and exits before the program runs.
process.stdout.write(JSON.stringify(process.execArgv));
process.exit(0);
