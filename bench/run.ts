// Entry of `npm run bench`. The benchmarks themselves are not built yet.
process.stdout.write('npm run bench: the benchmarks are not built yet.\n');
process.exit(2);
